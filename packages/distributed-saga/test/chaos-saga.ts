import type { SagaStepDefinition } from '@clone/saga';

/**
 * The saga the crash tests run: four steps alternating between two participant services, each
 * with a compensation; every fourth saga fails at its last step and is compensated across both.
 */
export const SERVICES = ['alpha', 'beta'] as const;

export const STEP_IDS = ['s1', 's2', 's3', 's4'] as const;

export function chaosSteps(timeoutMs: number): SagaStepDefinition[] {
  return STEP_IDS.map((id, i) => ({
    id,
    name: `step ${id}`,
    service: SERVICES[i % 2]!,
    action: id,
    compensationAction: `undo_${id}`,
    timeout: timeoutMs,
    retryAttempts: 2,
    ...(i > 0 ? { dependencies: [STEP_IDS[i - 1]!] } : {}),
  }));
}

/** The context of saga `i`: which step (if any) refuses. */
export function chaosContext(i: number): { i: number; failAt: string | null } {
  return { i, failAt: i % 4 === 0 ? 's4' : null };
}

export function sagaId(run: string, i: number): string {
  return `${run}-${i}`;
}

/** The side-effect ledger every step and compensation writes to. */
export const LEDGER_DDL = `CREATE TABLE IF NOT EXISTS ledger (
  seq bigserial PRIMARY KEY,
  command_id text NOT NULL,
  saga_id text NOT NULL,
  step_id text NOT NULL,
  kind text NOT NULL,
  service text NOT NULL,
  at timestamptz NOT NULL DEFAULT clock_timestamp()
)`;
