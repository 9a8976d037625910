-- One of a session's cards cannot be edited any more (deleted, the bot removed from its
-- chat or blocked, or its final state shown): mark it, so no process edits it again, while
-- the session's other card (a group session's card and the teacher's private code card)
-- stays fresh.
-- KEYS[1] session hash   ARGV[1] which card ('card' or 'code_card')
-- Returns 1 when the session has no card left to keep fresh (the caller then takes it off
-- the card index), else 0.
local card = ARGV[1]
if card ~= 'code_card' then
  card = 'card'
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 1
end
redis.call('HSET', KEYS[1], card .. '_off', '1')
for _, other in ipairs({'card', 'code_card'}) do
  local msg = redis.call('HGET', KEYS[1], other .. '_msg')
  if msg and msg ~= '' and redis.call('HGET', KEYS[1], other .. '_off') ~= '1' then
    return 0
  end
end
return 1
