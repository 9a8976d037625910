-- Free the teacher's slot, but only if it still names this session.
-- KEYS[1] teacher slot          ARGV[1] session id
local current = redis.call('GET', KEYS[1])
if current and string.match(current, '^(%S+) ') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
