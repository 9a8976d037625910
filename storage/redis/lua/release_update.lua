-- Forget that an update was claimed (its handling was cut off; Telegram delivers it again):
-- take its id off the user's window (see touch_profile.lua: "<floor> <step> ...", each step
-- an id's base-36 distance above the one before). An id already at or below the window's
-- floor stays handled: the window moved on, so it is too old to be handled again.
-- KEYS[1] profile hash   ARGV[1] the update id
-- Returns 1 when the id was taken off, else 0.
local window = redis.call('HGET', KEYS[1], 'upd')
if not window then
  return 0
end
local id, floor, previous, found, ids = tonumber(ARGV[1]), nil, nil, 0, {}
for value in string.gmatch(window, '%w+') do
  if not floor then
    floor, previous = value, tonumber(value)
  else
    previous = previous + tonumber(value, 36)
    if previous == id then
      found = 1
    else
      ids[#ids + 1] = previous
    end
  end
end
if found == 0 then
  return 0
end
local digits, parts = '0123456789abcdefghijklmnopqrstuvwxyz', {floor}
previous = tonumber(floor)
for _, value in ipairs(ids) do
  local step, text = value - previous, ''
  repeat
    local d = step % 36
    text, step = string.sub(digits, d + 1, d + 1) .. text, (step - d) / 36
  until step == 0
  parts[#parts + 1], previous = text, value
end
redis.call('HSET', KEYS[1], 'upd', table.concat(parts, ' '))
return 1
