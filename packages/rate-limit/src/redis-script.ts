import { createHash } from 'node:crypto';
import type { TierSet } from './tier';

/**
 * One policy's script for the Redis store, and how to read the state it keeps. `source` is the
 * Lua, `sha` its SHA-1 (what EVALSHA names it by).
 */
export interface ConsumeScript {
  readonly source: string;
  readonly sha: string;
  /**
   * Turns the state the script replies with (the key's value before the call, or null for a
   * fresh key) into TATs as `gcra.ts` keeps them: whole ms at `2i`, the rest at `2i + 1`.
   */
  readonly decode: (state: Buffer | null) => Float64Array;
}

/**
 * Writes the script that checks and consumes every tier of `policy` in one atomic call. KEYS[1]
 * holds the key's state as little-endian doubles packed with Redis's `struct`: each tier's TAT
 * in whole ms, followed by the rest in 1/limit ms only for a tier whose interval
 * `windowMs / limit` is not a whole number of ms (for the others the rest is always 0, so it is
 * not stored), then `x` (below). ARGV is `now`, then `cost` unless it is 1: each argument
 * costs a round trip about as much as a GET inside the script does.
 *
 * The script does as little as Redis can be asked to, because its time inside Redis is most of
 * what a check costs beyond a round trip: the tiers' numbers are written into the source as
 * constants (one script per policy, no argument to parse), the tiers are unrolled into locals
 * (no table, nothing for Lua's collector), it stops at the first tier that refuses, and it makes
 * one GET and, only when every tier allows the request, one SET (setting its expiry only now
 * and then). It answers the state it read, untouched: the limiter computes the decision
 * (remaining, reset, wait) from that state with the same exact arithmetic as the in-process
 * store (`gcraConsume`), which comes to the same answer the script did, since both apply GCRA
 * to the same numbers and every value stays below 2^53 (Lua numbers are doubles too).
 *
 * The key expires once every TAT has passed (it would read as a fresh key) plus one to two of
 * the longest window: Redis counts that time on its own clock, and the margin keeps a caller
 * whose clock runs behind Redis's by less than a window from finding its key gone early. Setting
 * an expiry costs Redis about as much as the SET itself (`pnpm bench:rate-limit`, "time inside
 * Redis"), so it is not set on every write: the state ends with `x`, the time (caller's clock)
 * the expiry was last set to. A write whose TATs end a window before `x` keeps the expiry
 * (`KEEPTTL`); one that would outgrow it sets it two windows past its TATs, so a busy key
 * renews its expiry about once per longest window.
 */
export function consumeScript(policy: TierSet): ConsumeScript {
  const tiers = policy.tiers;
  const locals: string[] = [];
  const lines: string[] = [];
  const ends: string[] = [];
  let longest = 0;
  tiers.forEach((t, i) => {
    const ms = `m${i}`;
    const rest = `r${i}`;
    locals.push(ms);
    if (t.intervalRest === 0) {
      // Refused when the TAT would end past the window: `ms - now > window`.
      lines.push(
        `if ${ms} < now then ${ms} = now end`,
        `${ms} = ${ms} + cost * ${t.intervalMs}`,
        `if ${ms} - now > ${t.windowMs} then return s end`,
      );
      ends.push(ms);
    } else {
      locals.push(rest);
      lines.push(
        `if ${ms} < now then ${ms} = now ${rest} = 0 end`,
        `${ms} = ${ms} + cost * ${t.intervalMs}`,
        `${rest} = ${rest} + cost * ${t.intervalRest}`,
        `if ${rest} >= ${t.limit} then local c = math.floor(${rest} / ${t.limit}) ${ms} = ${ms} + c ${rest} = ${rest} - c * ${t.limit} end`,
        `if ${ms} - now > ${t.windowMs} or (${ms} - now == ${t.windowMs} and ${rest} > 0) then return s end`,
      );
      ends.push(`(${rest} > 0 and ${ms} + 1 or ${ms})`);
    }
    if (t.windowMs > longest) longest = t.windowMs;
  });
  // The last number of the state is `x`, the caller's time until which the key's expiry is
  // known to hold (see the doc comment): it is written back with the TATs.
  locals.push('x');
  const format = `<${'d'.repeat(locals.length)}`;
  const all = locals.join(', ');
  const source = [
    'local now = tonumber(ARGV[1])',
    'local cost = 1',
    'if ARGV[2] then cost = tonumber(ARGV[2]) end',
    "local s = redis.call('GET', KEYS[1])",
    `local ${all} = ${locals.map(() => '0').join(', ')}`,
    `if s and #s == ${8 * locals.length} then ${all} = struct.unpack('${format}', s) end`,
    ...lines,
    `local e = ${ends[0]}`,
    ...ends.slice(1).map((end) => `if ${end} > e then e = ${end} end`),
    `if e + ${longest} <= x then`,
    `  redis.call('SET', KEYS[1], struct.pack('${format}', ${all}), 'KEEPTTL')`,
    'else',
    `  x = e + ${2 * longest}`,
    `  redis.call('SET', KEYS[1], struct.pack('${format}', ${all}), 'PX', x - now)`,
    'end',
    'return s',
    '',
  ].join('\n');
  // Where each tier's numbers sit in the packed state (bytes), -1 for a rest never stored;
  // `x` follows them and is the script's alone. A state of any other size is ignored (see decode).
  const offsets: number[] = [];
  let at = 0;
  for (const t of tiers) {
    offsets.push(at);
    at += 8;
    offsets.push(t.intervalRest === 0 ? -1 : at);
    if (t.intervalRest !== 0) at += 8;
  }
  const size = 8 * locals.length;
  const decode = (state: Buffer | null): Float64Array => {
    // A state of another size (written by another version of this script) reads as a fresh
    // key, here as in the script, which then writes it anew. A Float64Array, as the in-process
    // store keeps its states: `gcraConsume` then sees one kind of array only.
    const tats = new Float64Array(offsets.length);
    if (state === null || state.length !== size) return tats;
    for (let i = 0; i < offsets.length; i++) {
      const offset = offsets[i]!;
      if (offset >= 0) tats[i] = state.readDoubleLE(offset);
    }
    return tats;
  };
  return { source, sha: createHash('sha1').update(source).digest('hex'), decode };
}
