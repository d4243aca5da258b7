import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { SagaOrchestrator, SagaStepDefinition } from '../src/index';

/**
 * Handlers and sagas shared by the crash tests and their child process. Every side effect is
 * a row in `effects`, counted per idempotency key and kind (`do` / `undo`), so the test can
 * tell exactly which step ran how often, across processes.
 */
export async function createEffectsTable(pool: pg.Pool): Promise<void> {
  await pool.query(`CREATE TABLE IF NOT EXISTS effects (
    key text NOT NULL, kind text NOT NULL, runs int NOT NULL, owner text NOT NULL,
    PRIMARY KEY (key, kind))`);
}

export interface FixtureOptions {
  /** Upper bound of the random pause before and after each side effect, in ms. */
  maxPauseMs: number;
  /** Recorded with each effect: which orchestrator ran it. */
  owner: string;
  /** Step ids whose action never finishes (to leave sagas mid-step). */
  hang?: string[];
}

export function registerHandlers(o: SagaOrchestrator, pool: pg.Pool, options: FixtureOptions): void {
  const effect = async (key: string, kind: 'do' | 'undo'): Promise<void> => {
    await sleep(Math.random() * options.maxPauseMs);
    await pool.query(
      `INSERT INTO effects (key, kind, runs, owner) VALUES ($1, $2, 1, $3)
       ON CONFLICT (key, kind) DO UPDATE SET runs = effects.runs + 1, owner = effects.owner || ',' || $3`,
      [key, kind, options.owner],
    );
    await sleep(Math.random() * options.maxPauseMs);
  };
  o.registerStepHandler('work', async (step, _ctx, exec) => {
    if (options.hang?.includes(step.id)) await new Promise(() => {});
    await effect(exec.idempotencyKey, 'do');
    return { step: step.id, key: exec.idempotencyKey };
  });
  o.registerStepHandler('fail', async () => {
    await sleep(Math.random() * options.maxPauseMs);
    throw new Error('this step always fails');
  });
  o.registerCompensationHandler('undo', async (_step, _ctx, exec) => {
    await effect(exec.idempotencyKey, 'undo');
  });
}

/** Four steps in a chain; every third saga fails at its third step and compensates. */
export function stepsFor(i: number): SagaStepDefinition[] {
  const fails = i % 3 === 0;
  return ['s1', 's2', 's3', 's4'].map((id, n) => ({
    id,
    name: id,
    service: 'fixture',
    action: fails && id === 's3' ? 'fail' : 'work',
    compensationAction: 'undo',
    timeout: 10_000,
    ...(n > 0 ? { dependencies: [`s${n}`] } : {}),
  }));
}
