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
-- Returns {outcome, title, value, count}; value is "<ms><p|l>[ <metres>]" when recorded or
-- duplicate.
local s = redis.call('HMGET', KEYS[1], 'code', 'ends_at', 'state', 'late_at', 'title',
  'roster', 'prev_code', 'prev_until', 'geo')
if not s[1] then
  return {'no_session', '', '', 0}
end
local now = tonumber(ARGV[3])
local title = s[5] or ''
if s[3] ~= 'open' or now >= tonumber(s[2]) then
  return {'closed', title, '', 0}
end
if s[1] ~= ARGV[1] then
  if s[7] ~= ARGV[1] or now >= tonumber(s[8] or '0') then
    if redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 1 then
      return {'expired_code', title, '', 0}
    end
    return {'wrong_code', title, '', 0}
  end
end
local previous = redis.call('HGET', KEYS[2], ARGV[2])
if previous then
  return {'duplicate', title, previous, redis.call('HLEN', KEYS[2])}
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
return {'recorded', title, value, redis.call('HLEN', KEYS[2])}
