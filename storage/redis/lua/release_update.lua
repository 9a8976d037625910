-- Forget that an update was claimed (its handling was cut off; Telegram delivers it again):
-- take its id off the user's window (see touch_profile.lua). An id already at or below the
-- window's floor stays handled: the window moved on, so it is too old to be handled again.
-- KEYS[1] profile hash   ARGV[1] the update id
-- Returns 1 when the id was taken off, else 0.
local window = redis.call('HGET', KEYS[1], 'upd')
if not window then
  return 0
end
local kept, found = {}, 0
for value in string.gmatch(window, '%d+') do
  if #kept > 0 and found == 0 and value == ARGV[1] then
    found = 1
  else
    kept[#kept + 1] = value
  end
end
if found == 1 then
  redis.call('HSET', KEYS[1], 'upd', table.concat(kept, ' '))
end
return found
