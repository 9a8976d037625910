-- Give up a sweep claim (PostgreSQL failed): the next run may claim the session at once.
-- KEYS[1] session hash          ARGV[1] lease token
if redis.call('HGET', KEYS[1], 'lease') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'lease', '', 'lease_until', '0')
  return 1
end
return 0
