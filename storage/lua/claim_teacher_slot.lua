-- A teacher has at most one open session: take the teacher's slot unless it holds a session
-- whose end time has not passed.
-- KEYS[1] teacher slot          attn:t:{tid}
-- ARGV[1] new session id        ARGV[2] its end (ms)     ARGV[3] now (ms)
-- Returns false when the slot was taken, else the id of the session still holding it.
local current = redis.call('GET', KEYS[1])
if current then
  local sid, ends = string.match(current, '^(%S+) (%d+)$')
  if sid and tonumber(ends) > tonumber(ARGV[3]) then
    return sid
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[2])
return false
