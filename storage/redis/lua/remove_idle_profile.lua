-- The user sweep persisted this profile; delete it unless the user came back meanwhile.
-- KEYS[1] profile hash          ARGV[1] last seen (ms) that was persisted
-- Returns 1 when removed (or already gone), 0 when the user was seen again.
local seen = redis.call('HGET', KEYS[1], 'last_seen')
if seen and seen ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
return 1
