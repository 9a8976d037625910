-- Atomic check-in. In one step: the session exists and is open by its stored end time; the
-- code is its current one, or the previous one within the grace period (older codes of this
-- session are "expired"); the student is on the roster when the session has one; a location
-- was verified when the session asks for one; and the student has not checked in yet.
-- Then the student is recorded with the time and status: present, or late after the late time.
-- KEYS[1] session hash          attn:s:{sid}
-- KEYS[2] session check-ins     attn:s:{sid}:in
-- KEYS[3] session roster        attn:s:{sid}:roster
-- KEYS[4] session's past codes  attn:s:{sid}:codes
-- ARGV[1] code (normalized)     ARGV[2] student id     ARGV[3] now (ms)
-- ARGV[4] verified location: '' (none) or the distance in metres, rounded
-- Optional wrong-code guard, on a single Redis server only (the user's keys live in another
-- Redis Cluster slot; there the caller takes a guess with take_guess.lua first and settles
-- it with settle_guess.lua). Here it is the same atomic step that judges the code, so no
-- burst can have more than `limit` codes judged in any window:
-- KEYS[5] the user's attempts hash   KEYS[6] the user's guesses (see take_guess.lua)
-- ARGV[5] window (ms)  ARGV[6] limit  ARGV[7] lock (ms)  ARGV[8] TTL (s)  ARGV[9] token
-- ARGV[10] how long an unsettled guess (from take_guess.lua) counts (ms)
-- Returns {outcome, title, value, count[, zone]}; value is "<ms><p|l>[ <metres>]" when
-- recorded or duplicate, and then zone is the course's time zone ('' for the installation's). With the guard, outcome 'locked_out' when the user may not guess now, or when
-- this wrong code locked them out.
local s = redis.call('HMGET', KEYS[1], 'code', 'ends_at', 'state', 'late_at', 'title',
  'roster', 'prev_code', 'prev_until', 'geo', 'tz')
if not s[1] then
  return {'no_session', '', '', 0}
end
local now = tonumber(ARGV[3])
local title = s[5] or ''
local guarded = KEYS[6] ~= nil
if guarded then
  local locked = tonumber(redis.call('HGET', KEYS[5], 'locked_until') or '0')
  if locked > now then
    return {'locked_out', '', '', 0}
  end
  local entries = redis.call('ZRANGE', KEYS[6], 0, -1, 'WITHSCORES')
  local counted = 0
  for i = 1, #entries, 2 do
    local member, at = entries[i], tonumber(entries[i + 1])
    local life = tonumber(ARGV[5])
    if string.sub(member, 1, 2) == 'p:' then life = tonumber(ARGV[10]) end
    if now - at >= life then
      redis.call('ZREM', KEYS[6], member)
    else
      counted = counted + 1
    end
  end
  if counted >= tonumber(ARGV[6]) then
    return {'locked_out', '', '', 0}
  end
end
-- A wrong code: with the guard, counted, and the limit-th within the window locks the user.
local function wrong_code()
  if guarded then
    redis.call('ZADD', KEYS[6], now, 'f:' .. ARGV[9])
    redis.call('EXPIRE', KEYS[6], tonumber(ARGV[8]))
    local wrong = 0
    for _, member in ipairs(redis.call('ZRANGE', KEYS[6], 0, -1)) do
      if string.sub(member, 1, 2) == 'f:' then wrong = wrong + 1 end
    end
    if wrong >= tonumber(ARGV[6]) then
      redis.call('HSET', KEYS[5], 'locked_until', now + tonumber(ARGV[7]))
      redis.call('EXPIRE', KEYS[5], tonumber(ARGV[8]))
      redis.call('DEL', KEYS[6])
      return {'locked_out', title, '', 0}
    end
  end
  return {'wrong_code', title, '', 0}
end
if s[3] ~= 'open' or now >= tonumber(s[2]) then
  return {'closed', title, '', 0}
end
if s[1] ~= ARGV[1] then
  if s[7] ~= ARGV[1] or now >= tonumber(s[8] or '0') then
    if redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 1 then
      return {'expired_code', title, '', 0}
    end
    return wrong_code()
  end
end
local previous = redis.call('HGET', KEYS[2], ARGV[2])
if previous then
  return {'duplicate', title, previous, redis.call('HLEN', KEYS[2]), s[10] or ''}
end
if s[6] == '1' and redis.call('SISMEMBER', KEYS[3], ARGV[2]) == 0 then
  return {'not_enrolled', title, '', 0}
end
if s[9] == '1' and ARGV[4] == '' then
  return {'needs_location', title, '', 0}
end
local status = 'p'
if s[4] and s[4] ~= '' and now >= tonumber(s[4]) then
  status = 'l'
end
local value = ARGV[3] .. status
if ARGV[4] ~= '' then
  value = value .. ' ' .. ARGV[4]
end
redis.call('HSET', KEYS[2], ARGV[2], value)
local count = redis.call('HLEN', KEYS[2])
if count == 1 then
  -- The first check-in creates the hash: it expires with the session hash (safety net only).
  local ttl = redis.call('TTL', KEYS[1])
  if ttl > 0 then
    redis.call('EXPIRE', KEYS[2], ttl)
  end
end
-- Projector pages of the session show the new count (keys.live_channel).
redis.call('PUBLISH', 'attn:live', string.match(KEYS[1], '{(.-)}'))
return {'recorded', title, value, count, s[10] or ''}
