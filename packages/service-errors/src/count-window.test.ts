import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CountWindow } from './count-window';

describe('CountWindow', () => {
  it('holds exactly the last `size` outcomes (fast-check against an array)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.boolean(), { maxLength: 80 }),
        (size, hits) => {
          const window = new CountWindow(size);
          for (const hit of hits) window.record(hit);
          const last = hits.slice(-size);
          expect(window.calls()).toBe(last.length);
          expect(window.hits()).toBe(last.filter(Boolean).length);
          window.clear();
          expect([window.calls(), window.hits()]).toEqual([0, 0]);
        },
      ),
    );
  });
});
