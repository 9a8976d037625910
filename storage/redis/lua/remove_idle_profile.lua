-- The user sweep persisted this profile; delete it unless the user came back meanwhile.
-- KEYS[1] profile hash          ARGV[1] last seen (ms) that was persisted
-- Returns {1, highest update id of its claim window ('' when none)} when removed (or already
-- gone), {0, ''} when the user was seen again. The caller raises the global update floor to
-- that id (raise_update_floor.lua), so the claims dropped with the profile still count.
local seen = redis.call('HGET', KEYS[1], 'last_seen')
if seen and seen ~= ARGV[1] then
  return {0, ''}
end
local highest, highest_text = -1, ''
for value in string.gmatch(redis.call('HGET', KEYS[1], 'upd') or '', '%d+') do
  if tonumber(value) > highest then
    highest, highest_text = tonumber(value), value
  end
end
redis.call('DEL', KEYS[1])
return {1, highest_text}
