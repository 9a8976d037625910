-- Replace a live session's projector links: the generation their signature covers goes up
-- by one, so every link given out before stops working, and open projector pages are told
-- at once (keys.live_channel) and show the refusal. Nothing is created for a session that
-- is gone (HINCRBY alone would make a stray hash with no TTL).
-- KEYS[1] session hash
-- Returns the new generation, or 0 when there is no such session.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local generation = redis.call('HINCRBY', KEYS[1], 'projector_gen', 1)
redis.call('PUBLISH', 'attn:live', string.match(KEYS[1], '{(.-)}'))
return generation
