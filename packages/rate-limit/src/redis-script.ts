import { createHash } from 'node:crypto';

/**
 * The Redis store's one script: GCRA over every tier of a set, checked and consumed in one
 * atomic call, in the same exact integer arithmetic as `gcra.ts` (Lua numbers are doubles; every
 * value stays below 2^53, so doubles hold them exactly). KEYS[1] holds the key's state as one
 * string of little-endian doubles, `ms rest ms rest …` (each tier's TAT in whole ms and the rest
 * in 1/limit ms), packed with Redis's `struct`; ARGV is now, cost, then per tier limit, whole
 * interval ms, interval rest and window ms. One GET and one SET of packed numbers is the least
 * work Redis can do here: a hash with a field per tier, or numbers as text, cost a quarter to a
 * half more time inside Redis per call. Nothing is written unless
 * every tier allows the request. The key expires once every TAT has passed (it would read as a
 * fresh key) plus the longest window: Redis counts that time on its own clock, and the margin
 * keeps a caller whose clock runs behind Redis's by less than a window from finding its key
 * gone early. Replies `{allowed, tier, remaining, resetMs, retryAfterMs}`, integers.
 */
export const CONSUME_SCRIPT = `
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local n = (#ARGV - 2) / 4
local stored = redis.call('GET', KEYS[1])
local fmt = '<' .. string.rep('d', 2 * n)
local st
if stored then
  st = {struct.unpack(fmt, stored)}
else
  st = {}
end
local out = {}
local allowed = true
local best, bestRemaining, bestReset, bestRetry = 0, math.huge, 0, -1
local expiry, longest = 0, 0
for i = 1, n do
  local base = (i - 1) * 4 + 2
  local limit = tonumber(ARGV[base + 1])
  local window = tonumber(ARGV[base + 4])
  local a = st[2 * i - 1] or 0
  local b = st[2 * i] or 0
  if a < now then
    a = now
    b = 0
  end
  local ms = a + cost * tonumber(ARGV[base + 2])
  local rest = b + cost * tonumber(ARGV[base + 3])
  if rest >= limit then
    local carry = math.floor(rest / limit)
    ms = ms + carry
    rest = rest - carry * limit
  end
  out[2 * i - 1] = ms
  out[2 * i] = rest
  local ahead = ms - now
  if ahead < window or (ahead == window and rest == 0) then
    if allowed then
      local remaining = math.floor((window * limit - ahead * limit - rest) / window)
      if remaining < bestRemaining then
        best = i - 1
        bestRemaining = remaining
        bestReset = ahead + ((rest > 0) and 1 or 0)
      end
    end
  else
    local retry = ahead - window + ((rest > 0) and 1 or 0)
    if retry > bestRetry then
      local used = a - now
      best = i - 1
      bestRetry = retry
      bestRemaining = math.floor((window * limit - used * limit - b) / window)
      bestReset = used + ((b > 0) and 1 or 0)
    end
    allowed = false
  end
  if window > longest then longest = window end
  local ends = ms + ((rest > 0) and 1 or 0)
  if ends > expiry then expiry = ends end
end
if not allowed then
  return {0, best, bestRemaining, bestReset, bestRetry}
end
redis.call('SET', KEYS[1], struct.pack(fmt, unpack(out)), 'PX', expiry - now + longest)
return {1, best, bestRemaining, bestReset, 0}
`;

/** The script's SHA-1, what EVALSHA names it by. */
export const CONSUME_SCRIPT_SHA = createHash('sha1').update(CONSUME_SCRIPT).digest('hex');
