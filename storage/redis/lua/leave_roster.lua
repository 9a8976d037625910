-- A student taken off a live session's roster (removed by the teacher, or left the course):
-- they can no longer check in, are not listed as missing and get no absent row. A check-in
-- they already made stays (it is saved with the session), and so does their place in the
-- card's "n / roster", which then matches the summary; otherwise the roster shrinks and a
-- live /mark of theirs is dropped. Nothing when the session is gone.
-- KEYS[1] session hash  KEYS[2] check-ins  KEYS[3] roster  KEYS[4] marks
-- ARGV[1] student id
-- Returns 1 when the student was on the roster, else 0.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
if redis.call('SREM', KEYS[3], ARGV[1]) == 0 then
  return 0
end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then
  redis.call('HDEL', KEYS[4], ARGV[1])
  local size = tonumber(redis.call('HGET', KEYS[1], 'roster_size') or '0')
  if size > 0 then
    redis.call('HSET', KEYS[1], 'roster_size', size - 1)
  end
end
return 1
