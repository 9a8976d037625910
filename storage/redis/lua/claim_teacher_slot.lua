-- A teacher has at most one open session: take the teacher's slot unless it holds a session
-- whose end time has not passed. This one step is what makes concurrent starts (a double tap,
-- two devices, two bot processes) open exactly one session: whoever loses is told who holds
-- the slot, and may only take it over by naming that exact holder (compare-and-set), after it
-- has checked that the holder is really over.
-- KEYS[1] teacher slot          attn:t:{tid}
-- ARGV[1] new session id        ARGV[2] its end (ms)     ARGV[3] now (ms)
-- ARGV[4] optional: the holder value the caller found stale and may replace ('' for none)
-- The slot holds "<session id> <ends ms> <claimed ms>" (older values lack the claim time).
-- Returns false when the slot was taken, else the value of the slot as it stands.
local current = redis.call('GET', KEYS[1])
if current then
  local sid, ends = string.match(current, '^(%S+) (%d+)')
  local stale = ARGV[4] ~= nil and ARGV[4] ~= '' and current == ARGV[4]
  if sid and tonumber(ends) > tonumber(ARGV[3]) and not stale then
    return current
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[2] .. ' ' .. ARGV[3])
return false
