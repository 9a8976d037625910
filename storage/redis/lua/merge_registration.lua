-- Add a registered name and number (read from PostgreSQL) to a cached profile, only if it is
-- still cached, no registration was written meanwhile (a /register always wins), and the
-- user did not ask to be forgotten since (the names were read before /forgetme deleted them).
-- KEYS[1] profile hash   KEYS[2] the user's "forgotten just now" marker (optional)
-- ARGV[1] full name      ARGV[2] student number   ARGV[3] chosen language ('' when none)
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
if KEYS[2] and redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
redis.call('HSETNX', KEYS[1], 'full_name', ARGV[1])
redis.call('HSETNX', KEYS[1], 'student_number', ARGV[2])
if ARGV[3] and ARGV[3] ~= '' then
  redis.call('HSETNX', KEYS[1], 'language', ARGV[3])
end
return 1
