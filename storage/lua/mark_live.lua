-- A teacher's correction on a live (not yet swept) session; the sweep applies it.
-- KEYS[1] session hash  KEYS[2] check-ins  KEYS[3] marks
-- ARGV[1] student id    ARGV[2] new status (present|late|excused|absent)
-- Returns {'gone'} when the session is no longer in Redis, {'sealed'} while a sweep holds it,
-- else {'ok', previous status} where previous is the mark, else the check-in's, else ''.
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
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
return {'ok', previous}
