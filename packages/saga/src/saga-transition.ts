import type pg from 'pg';
import type { SagaStatus, StoredError } from './store';

/** One saga state change, as {@link SagaTransitionHook} sees it. */
export interface SagaTransition {
  id: string;
  type: string;
  correlationId: string | undefined;
  /** The status the transition records (`running` on creation; a final one at the end). */
  status: SagaStatus;
  /** The saga's first write. */
  created: boolean;
  /** The saga's error, once it has one. */
  error: StoredError | undefined;
}

/**
 * Runs inside the transaction that records a transition, once per applied write (a write fenced
 * off by a newer lease owner calls nothing). What it writes through `client` (an outbox row, say)
 * commits or rolls back with the saga's state: a saga event is stored exactly when the state it
 * announces is. If it throws, the write fails and the saga is resumed later, as after any store
 * error.
 */
export type SagaTransitionHook = (client: pg.PoolClient, transition: SagaTransition) => Promise<void>;

/** The transition a write records, from the state it serialised (the record itself moves on). */
export function transitionOf(
  id: string,
  type: string,
  correlationId: string | null,
  created: boolean,
  state: string,
): SagaTransition {
  const { status, error } = JSON.parse(state) as { status: SagaStatus; error?: StoredError };
  return { id, type, correlationId: correlationId ?? undefined, status, created, error };
}
