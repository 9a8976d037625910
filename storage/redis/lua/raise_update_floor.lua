-- Raise the global update floor (never lower it): the highest update id of any user window
-- that was dropped (an idle profile removed, a user forgotten). A window created afterwards
-- starts there, so an update claimed before its window was dropped is never handled again.
-- KEYS[1] the floor (string)   ARGV[1] an update id
-- Returns the floor now.
local floor = redis.call('GET', KEYS[1])
if floor and tonumber(floor) >= tonumber(ARGV[1]) then
  return floor
end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
