-- After the session is committed to PostgreSQL: remove its live keys, if we still hold the lease.
-- KEYS[1] session hash  KEYS[2] check-ins  KEYS[3] roster  KEYS[4] marks  KEYS[5] codes
-- ARGV[1] lease token
-- Returns 1 when deleted, 0 when the lease was lost (another sweeper finishes the job).
-- UNLINK: a class of a thousand check-ins is freed off the main thread.
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[1] then
  return 0
end
redis.call('UNLINK', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
return 1
