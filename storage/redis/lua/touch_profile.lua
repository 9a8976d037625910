-- The first step of every update from a user, in one round trip: claim the update id (so an
-- update Telegram delivers twice, or to two processes, is handled once), refresh the cached
-- profile's Telegram names and last-seen time (creating it when it is not cached; the caller
-- then adds the registered name from PostgreSQL in the background, and nothing here ever
-- overwrites one), and report any lock-out for too many wrong codes.
--
-- Update claims are a sliding window in the profile hash's field 'upd' (O(window) memory, not
-- a key per update): "<floor> <step> <step> ...", the floor in decimal and the claimed ids
-- in increasing order, each written in base 36 as its distance above the one before (the
-- first: above the floor). A user's ids lie close together, so a step is one to three
-- characters and a window of 12 ids usually fits the 64 bytes of a compact hash value (a
-- fresh window's first step, from a far floor, is longer). Telegram's update ids increase
-- per bot, so per user too. The ids listed are the user's claimed ids above the floor (at
-- most ARGV[9]); an id at or below the floor counts as handled (too old to be a fresh update:
-- ignored). The floor rises to the oldest id pushed out when the list is full, and to the
-- highest claimed id when the user was quiet for ARGV[10] ms (an update that late after a
-- newer one is not a reordering). A fresh window starts at the global floor ARGV[11]: the
-- highest id of any profile removed as idle (see remove_idle_profile.lua), so ids claimed
-- before the window was dropped are never handled again. Release (release_update.lua) takes
-- an id off the list.
-- KEYS[1] profile hash   KEYS[2] the user's wrong-code attempts
-- KEYS[3] the user's remembered command menu (read only: their first message to a process
--         checks it without another round trip)
-- KEYS[4] (optional, single Redis server only) the idle index, updated in the same call; on
--         a cluster it lives in another slot and the caller updates it separately
-- ARGV[1] first name  ARGV[2] last name  ARGV[3] username  ARGV[4] last seen (ms)
-- ARGV[5] the update id to claim ('' when there is none)
-- ARGV[6] safety TTL of a newly created profile (s)   ARGV[7] the Telegram language code
-- ARGV[8] the user id (for KEYS[4])   ARGV[9] claimed ids kept above the floor
-- ARGV[10] quiet time (ms) after which the window closes   ARGV[11] the global floor
-- Returns {cached (1|0), locked until (ms, 0 when not locked), duplicate (1|0),
--          the language the user chose ('' when none), the menu version ('' when none)};
-- a duplicate's reply is {0, 0, 1} (a caller joining scripts reads that third element).
local cached = redis.call('EXISTS', KEYS[1])
if ARGV[5] ~= '' then
  local function base36(n) -- tonumber(text, 36) reads it back
    local digits, text = '0123456789abcdefghijklmnopqrstuvwxyz', ''
    repeat
      local d = n % 36
      text, n = string.sub(digits, d + 1, d + 1) .. text, (n - d) / 36
    until n == 0
    return text
  end
  local id = tonumber(ARGV[5])
  local floor = tonumber(ARGV[11])
  local claimed = {} -- absolute ids
  local window = cached == 1 and redis.call('HGET', KEYS[1], 'upd')
  if window then
    local stored, previous
    for value in string.gmatch(window, '%w+') do
      if stored then
        previous = previous + tonumber(value, 36)
        claimed[#claimed + 1] = previous
      else
        stored = tonumber(value)
        previous = stored
      end
    end
    if stored and stored > floor then
      floor = stored
    end
    local seen = tonumber(redis.call('HGET', KEYS[1], 'last_seen') or '0')
    if #claimed > 0 and tonumber(ARGV[4]) - seen >= tonumber(ARGV[10]) then
      for _, value in ipairs(claimed) do -- quiet: everything claimed so far is old now
        if value > floor then
          floor = value
        end
      end
      claimed = {}
    end
  end
  if id <= floor then
    return {0, 0, 1}
  end
  for _, value in ipairs(claimed) do
    if value == id then
      return {0, 0, 1}
    end
  end
  claimed[#claimed + 1] = id
  table.sort(claimed)
  if #claimed > tonumber(ARGV[9]) then
    floor = table.remove(claimed, 1)
  end
  local parts, previous = {string.format('%.0f', floor)}, floor
  for _, value in ipairs(claimed) do
    if value > floor then -- an id a stale stored floor left below the global one is handled
      parts[#parts + 1] = base36(value - previous)
      previous = value
    end
  end
  redis.call('HSET', KEYS[1], 'upd', table.concat(parts, ' '))
end
local locked = tonumber(redis.call('HGET', KEYS[2], 'locked_until') or '0')
if locked <= tonumber(ARGV[4]) then
  locked = 0
end
if KEYS[4] then
  redis.call('ZADD', KEYS[4], ARGV[4], ARGV[8])
end
redis.call('HSET', KEYS[1], 'first_name', ARGV[1], 'last_name', ARGV[2],
  'username', ARGV[3], 'last_seen', ARGV[4], 'language_code', ARGV[7])
if cached == 0 then
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
end
return {cached, locked, 0, redis.call('HGET', KEYS[1], 'language') or '',
  redis.call('GET', KEYS[3]) or ''}
