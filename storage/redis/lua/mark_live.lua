-- A teacher's correction on a live (not yet swept) session; the sweep applies it.
-- Corrections are audited first: the caller reads the current status (ARGV[3] = '?'), writes
-- the audit row to PostgreSQL, then sets the new status only if the current one is still the
-- audited one (ARGV[3] = that status, or '-' for none), so the audit row and the change are
-- both stored or neither (the caller deletes its audit row when this refuses).
-- KEYS[1] session hash  KEYS[2] check-ins  KEYS[3] marks
-- ARGV[1] student id    ARGV[2] new status (present|late|excused|absent; ignored when reading)
-- ARGV[3] '?' (read only) or the expected current status ('-' for none)
-- Returns {'gone', ''} when the session is no longer in Redis, {'sealed', ''} while a sweep
-- holds it, {'changed', current} when the current status is not the expected one, else
-- {'ok', current before this call} where current is the mark, else the check-in's, else ''.
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  return {'gone', ''}
end
if state == 'sealed' then
  return {'sealed', ''}
end
local previous = redis.call('HGET', KEYS[3], ARGV[1])
if not previous then
  local value = redis.call('HGET', KEYS[2], ARGV[1])
  if value then
    if string.sub(value, -1) == 'l' then previous = 'late' else previous = 'present' end
  else
    previous = ''
  end
end
if ARGV[3] == '?' then
  return {'ok', previous}
end
local expected = ARGV[3]
if expected == '-' then expected = '' end
if previous ~= expected then
  return {'changed', previous}
end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
-- The marks expire with the session hash (a safety net only; the sweep removes them).
local ttl = redis.call('TTL', KEYS[1])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[3], ttl)
end
return {'ok', previous}
