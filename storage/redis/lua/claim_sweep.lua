-- Claim an ended session for the attendance sweep: seal it (no check-in or live correction
-- gets in after this point) and take a lease, so two sweepers never work on it at once; a
-- sweeper that dies loses the claim when its lease time passes. Times come from the caller.
-- Every claim counts itself in the hash's `sweeps` field, before anything is written to
-- PostgreSQL: a claim numbered 1 knows no earlier sweep of the session can have committed, so
-- it may COPY its rows without ON CONFLICT (the unique keys still catch a count Redis lost).
-- KEYS[1] session hash  KEYS[2] check-ins  KEYS[3] roster  KEYS[4] teacher's marks
-- KEYS[5] past codes
-- ARGV[1] now (ms)              ARGV[2] lease token      ARGV[3] lease until (ms)
-- Returns {'gone'} | {'not_due'} | {'busy'} |
--         {'claimed', session fields, check-ins, roster members, marks, past codes, attempt}.
local s = redis.call('HMGET', KEYS[1], 'state', 'ends_at', 'lease', 'lease_until')
if not s[1] then
  return {'gone'}
end
local now = tonumber(ARGV[1])
if s[1] == 'open' and now < tonumber(s[2]) then
  return {'not_due'}
end
if s[3] and s[3] ~= '' and tonumber(s[4]) > now then
  return {'busy'}
end
redis.call('HSET', KEYS[1], 'state', 'sealed', 'lease', ARGV[2], 'lease_until', ARGV[3])
local attempt = redis.call('HINCRBY', KEYS[1], 'sweeps', 1)
return {'claimed', redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2]),
  redis.call('SMEMBERS', KEYS[3]), redis.call('HGETALL', KEYS[4]), redis.call('SMEMBERS', KEYS[5]),
  attempt}
