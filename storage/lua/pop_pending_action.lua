-- Take (and remove) what the user's next plain message answers, if it has not expired.
-- KEYS[1] pending-action key    ARGV[1] now (ms)
-- Returns "<action> <payload>" (payload may be empty), or false.
local value = redis.call('GET', KEYS[1])
if not value then
  return false
end
redis.call('DEL', KEYS[1])
local action, untilms, payload = string.match(value, '^(%S+) (%d+) ?(.*)$')
if action and tonumber(untilms) > tonumber(ARGV[1]) then
  return action .. ' ' .. payload
end
return false
