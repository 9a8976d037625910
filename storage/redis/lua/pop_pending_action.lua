-- Take (and remove) what the user's next message answers, if it has not expired.
-- KEYS[1] pending-action key    ARGV[1] now (ms)
-- ARGV[2..] optional: the actions this message can answer (a typed text cannot answer
--           "share your location"); any other pending action stays pending, untouched.
-- Returns "<action> <payload>" (payload may be empty), or false.
local value = redis.call('GET', KEYS[1])
if not value then
  return false
end
local action, untilms, payload = string.match(value, '^(%S+) (%d+) ?(.*)$')
if #ARGV > 1 then
  local accepted = false
  for i = 2, #ARGV do
    if ARGV[i] == action then
      accepted = true
    end
  end
  if not accepted then
    return false
  end
end
redis.call('DEL', KEYS[1])
if action and tonumber(untilms) > tonumber(ARGV[1]) then
  return action .. ' ' .. payload
end
return false
