import { describe, expect, it } from 'vitest';
import { coalesceWrites } from './coalesce-writes';

describe('coalesceWrites', () => {
  it("corks the socket around the multiplexer's pass, so its writes leave together", () => {
    const log: string[] = [];
    const stream = { cork: () => log.push('cork'), uncork: () => log.push('uncork') };
    const muxer = {
      _readIncoming() {
        log.push('write a', 'write b');
      },
    };
    expect(coalesceWrites({ connection: { stream, muxer } })).toBe(true);
    muxer._readIncoming();
    expect(log).toEqual(['cork', 'write a', 'write b', 'uncork']);
  });

  it('uncorks even when the pass throws', () => {
    const log: string[] = [];
    const muxer = {
      _readIncoming(): void {
        throw new Error('boom');
      },
    };
    coalesceWrites({
      connection: { stream: { cork: () => log.push('cork'), uncork: () => log.push('uncork') }, muxer },
    });
    expect(() => muxer._readIncoming()).toThrow('boom');
    expect(log).toEqual(['cork', 'uncork']);
  });

  it('changes nothing when the internals it needs are missing', () => {
    expect(coalesceWrites({ connection: { stream: {} } })).toBe(false);
    expect(coalesceWrites({})).toBe(false);
    expect(coalesceWrites(undefined)).toBe(false);
  });
});
