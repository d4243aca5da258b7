import { describe, expect, it, vi } from 'vitest';
import { Emitter } from './emitter';

describe('Emitter', () => {
  it('delivers to every listener even when one throws, whatever it throws', () => {
    const emitter = new Emitter<{ tick: number }>();
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const seen: number[] = [];
    emitter.on('tick', () => {
      throw revoked.proxy;
    });
    emitter.on('tick', () => {
      throw new Error('listener bug');
    });
    const off = emitter.on('tick', (n) => seen.push(n));
    expect(() => emitter.emit('tick', 1)).not.toThrow();
    off();
    emitter.emit('tick', 2);
    expect(seen).toEqual([1]);
    expect(warn).toHaveBeenCalledTimes(4);
    expect(String(warn.mock.calls[1]![0])).toBe("A listener for 'tick' threw: listener bug");
    warn.mockRestore();
  });
});
