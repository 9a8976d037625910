-- The user sweep persisted this profile; delete it unless the user came back meanwhile.
-- KEYS[1] profile hash          ARGV[1] last seen (ms) that was persisted
-- Returns {1, highest update id of its claim window ('' when none)} when removed (or already
-- gone), {0, ''} when the user was seen again. The caller raises the global update floor to
-- that id (raise_update_floor.lua), so the claims dropped with the profile still count.
local seen = redis.call('HGET', KEYS[1], 'last_seen')
if seen and seen ~= ARGV[1] then
  return {0, ''}
end
-- Its window is "<floor> <step> ...", each step an id's base-36 distance above the one
-- before (touch_profile.lua): the highest id is their sum.
local highest
for value in string.gmatch(redis.call('HGET', KEYS[1], 'upd') or '', '%w+') do
  highest = highest and highest + tonumber(value, 36) or tonumber(value)
end
local highest_text = highest and string.format('%.0f', highest) or ''
redis.call('DEL', KEYS[1])
return {1, highest_text}
