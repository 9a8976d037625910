-- One request of an API token's budget: a fixed window counter (issue 16). The key names the
-- window, so a new window starts at zero without a reset; the TTL only cleans up.
-- KEYS[1] the token's counter of this window   attn:api:{token id}:<window number>
-- ARGV[1] the budget per window                ARGV[2] the window's length (ms)
-- Returns the count after this request (over the budget: refused, and counted anyway).
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return count
