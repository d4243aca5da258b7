import { describe, expect, it } from 'vitest';
import { StatementBatcher } from './statement-batcher';

/** A statement runner whose statements finish when the test says so. */
function runner() {
  const statements: { keys: number[]; finish(error?: Error): void }[] = [];
  const run = (keys: number[]): Promise<number[]> =>
    new Promise((resolve, reject) => {
      statements.push({
        keys,
        finish: (error) => (error ? reject(error) : resolve(keys.map((k) => k * 10))),
      });
    });
  return { statements, run };
}

/** Lets every promise callback queued so far run. */
const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('StatementBatcher', () => {
  it('runs a lone key at once, and the keys arriving meanwhile in the next statement together', async () => {
    const { statements, run } = runner();
    const batcher = new StatementBatcher(run, 1, 100);
    const first = batcher.submit(1);
    expect(statements.map((s) => s.keys)).toEqual([[1]]);
    const rest = [2, 3, 4].map((k) => batcher.submit(k));
    expect(statements).toHaveLength(1);
    statements[0]!.finish();
    expect(await first).toBe(10);
    await settled();
    expect(statements.map((s) => s.keys)).toEqual([[1], [2, 3, 4]]);
    statements[1]!.finish();
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
  });

  it('keeps at most maxInFlight statements and maxBatch keys in one', async () => {
    const { statements, run } = runner();
    const batcher = new StatementBatcher(run, 2, 2);
    const all = [1, 2, 3, 4, 5, 6].map((k) => batcher.submit(k));
    expect(statements.map((s) => s.keys)).toEqual([[1], [2]]);
    statements[0]!.finish();
    await all[0];
    await settled();
    expect(statements.map((s) => s.keys)).toEqual([[1], [2], [3, 4]]);
    statements[1]!.finish();
    statements[2]!.finish();
    await Promise.all(all.slice(1, 4));
    await settled();
    expect(statements.map((s) => s.keys)).toEqual([[1], [2], [3, 4], [5, 6]]);
    statements[3]!.finish();
    expect(await Promise.all(all)).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('rejects every key of a failed statement and goes on with the next', async () => {
    const { statements, run } = runner();
    const batcher = new StatementBatcher(run, 1, 100);
    const blocker = batcher.submit(0);
    const failing = [1, 2].map((k) => batcher.submit(k));
    statements[0]!.finish();
    await blocker;
    await settled();
    statements[1]!.finish(new Error('database down'));
    for (const p of failing) await expect(p).rejects.toThrow('database down');
    const after = batcher.submit(3);
    statements[2]!.finish();
    expect(await after).toBe(30);
  });
});
