-- Atomic check-in. In one step: the session exists and is open by its stored end time; the
-- code is its current one, or the previous one within the grace period (older codes of this
-- session are "expired"); the student is on the roster when the session has one; a location
-- was verified when the session asks for one; and the student has not checked in yet.
-- Then the student is recorded with the time and status: present, or late after the late time.
-- KEYS[1] session hash          attn:s:{sid}
-- KEYS[2] session check-ins     attn:s:{sid}:in
-- KEYS[3] session roster        attn:s:{sid}:roster   } on Redis Cluster only; on a single
-- KEYS[4] session's past codes  attn:s:{sid}:codes    } server they are named from KEYS[1]
-- (every argument costs the client time to encode, and these two are rarely read; a cluster
-- requires every key declared, and gets them)
-- ARGV[1] code (normalized)     ARGV[2] student id     ARGV[3] now (ms)
-- ARGV[4] the wrong-code guard's settings, '' for none (see below)
-- ARGV[5] verified location: absent or '' (none), or the distance in metres, rounded
-- The wrong-code guard, on a single Redis server only (the user's keys live in another
-- Redis Cluster slot; there the caller takes a guess with take_guess.lua first and settles
-- it with settle_guess.lua). Here it is the same atomic step that judges the code, so no
-- burst can have more than `limit` codes judged in any window. Its keys are the student's
-- (named here from ARGV[2], as keys.attempts and keys.guesses name them: the script is only
-- guarded on a single server, where undeclared keys are allowed):
--   attempts  attn:u:{<student>}:attempts    guesses  attn:u:{<student>}:guesses
-- ARGV[4] holds its settings in one argument (the caller builds it once):
--         "<window ms> <limit> <lock ms> <TTL s> <how long an unsettled guess counts, ms>"
-- A wrong code is kept in the guesses as "f:<now>" ("f:<now>-<n>" when the user already has
-- one at that millisecond).
-- The reply is as small as the outcome allows (the caller knows the time it sent):
--   {0}                                  no session has this code (here)
--   {1[, title]}                         locked_out: the user may not guess now, or this
--                                        wrong code locked them out
--   {2, title} closed   {3, title} expired_code   {4, title} wrong_code
--   {5, title} not_enrolled   {6, title} needs_location
--   {7, title, count, zone}              recorded, present (at ARGV[3])
--   {8, title, count, zone}              recorded, late (at ARGV[3])
--   {9, title, count, zone, value}       duplicate; value "<ms><p|l>[ <metres>]" as stored
-- zone is the course's time zone ('' for the installation's).
local s = redis.call('HMGET', KEYS[1], 'code', 'ends_at', 'state', 'late_at', 'title',
  'roster', 'prev_code', 'prev_until', 'geo', 'tz')
if not s[1] then
  return {0}
end
local now = tonumber(ARGV[3])
local title = s[5] or ''
local guarded = ARGV[4] ~= ''
local limit, lock, ttl, attempts, guesses
if guarded then
  local prefix = string.match(KEYS[1], '^(.*):s:{')
  attempts = prefix .. ':u:{' .. ARGV[2] .. '}:attempts'
  guesses = prefix .. ':u:{' .. ARGV[2] .. '}:guesses'
  local locked = tonumber(redis.call('HGET', attempts, 'locked_until') or '0')
  if locked > now then
    return {1}
  end
  local window, unsettled
  window, limit, lock, ttl, unsettled = string.match(ARGV[4], '^(%d+) (%d+) (%d+) (%d+) (%d+)$')
  window, limit, unsettled = tonumber(window), tonumber(limit), tonumber(unsettled)
  local entries = redis.call('ZRANGE', guesses, 0, -1, 'WITHSCORES')
  local counted = 0
  for i = 1, #entries, 2 do
    local member, at = entries[i], tonumber(entries[i + 1])
    local life = window
    if string.sub(member, 1, 2) == 'p:' then life = unsettled end
    if now - at >= life then
      redis.call('ZREM', guesses, member)
    else
      counted = counted + 1
    end
  end
  if counted >= limit then
    return {1}
  end
end
if s[3] ~= 'open' or now >= tonumber(s[2]) then
  return {2, title}
end
if s[1] ~= ARGV[1] then
  if s[7] ~= ARGV[1] or now >= tonumber(s[8] or '0') then
    if redis.call('SISMEMBER', KEYS[4] or (KEYS[1] .. ':codes'), ARGV[1]) == 1 then
      return {3, title}
    end
    if not guarded then
      return {4, title}
    end
    -- A wrong code, with the guard: counted, and the limit-th within the window locks the user.
    local member = 'f:' .. ARGV[3]
    local n = 0
    while redis.call('ZSCORE', guesses, member) do
      n = n + 1
      member = 'f:' .. ARGV[3] .. '-' .. n
    end
    redis.call('ZADD', guesses, now, member)
    redis.call('EXPIRE', guesses, tonumber(ttl))
    local wrong = 0
    for _, m in ipairs(redis.call('ZRANGE', guesses, 0, -1)) do
      if string.sub(m, 1, 2) == 'f:' then wrong = wrong + 1 end
    end
    if wrong >= limit then
      redis.call('HSET', attempts, 'locked_until', now + tonumber(lock))
      redis.call('EXPIRE', attempts, tonumber(ttl))
      redis.call('DEL', guesses)
      return {1, title}
    end
    return {4, title}
  end
end
local previous = redis.call('HGET', KEYS[2], ARGV[2])
if previous then
  return {9, title, redis.call('HLEN', KEYS[2]), s[10] or '', previous}
end
if s[6] == '1' and redis.call('SISMEMBER', KEYS[3] or (KEYS[1] .. ':roster'), ARGV[2]) == 0 then
  return {5, title}
end
local metres = ARGV[5] or ''
if s[9] == '1' and metres == '' then
  return {6, title}
end
local outcome = 7
local value = ARGV[3] .. 'p'
if s[4] and s[4] ~= '' and now >= tonumber(s[4]) then
  outcome = 8
  value = ARGV[3] .. 'l'
end
if metres ~= '' then
  value = value .. ' ' .. metres
end
redis.call('HSET', KEYS[2], ARGV[2], value)
local count = redis.call('HLEN', KEYS[2])
if count == 1 then
  -- The first check-in creates the hash: it expires with the session hash (safety net only).
  local ttl = redis.call('TTL', KEYS[1])
  if ttl > 0 then
    redis.call('EXPIRE', KEYS[2], ttl)
  end
end
-- Projector pages of the session show the new count (keys.live_channel).
redis.call('PUBLISH', 'attn:live', string.match(KEYS[1], '{(.-)}'))
return {outcome, title, count, s[10] or ''}
