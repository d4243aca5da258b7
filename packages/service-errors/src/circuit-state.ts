import { intAtLeast } from '@clone/internal';
import { z } from 'zod';

/** The three states of a circuit breaker. */
export enum CircuitState {
  /** Calls pass; failures are counted. */
  CLOSED = 'CLOSED',
  /** Calls are rejected with CIRCUIT_OPEN until `resetTimeoutMs` has passed. */
  OPEN = 'OPEN',
  /** A limited number of probe calls pass; their outcome closes or reopens the circuit. */
  HALF_OPEN = 'HALF_OPEN',
}

/** What `toJSON()` returns and `initialState` accepts: enough to restore a breaker. */
export interface CircuitBreakerSnapshot {
  state: CircuitState;
  isolated: boolean;
  /** When the circuit last opened (clock ms); null unless OPEN. */
  openedAt: number | null;
  /** Consecutive failures counted while CLOSED. */
  failureCount: number;
}

/** A persisted {@link CircuitBreakerSnapshot}, as `initialState` accepts it. */
export const snapshotSchema = z.strictObject({
  state: z.enum(CircuitState),
  isolated: z.boolean().default(false),
  openedAt: z.number().nullable().default(null),
  failureCount: intAtLeast(0).default(0),
});

/** `initialState` as given (a state or a snapshot) made a full snapshot. */
export function toSnapshot(initial: CircuitState | z.output<typeof snapshotSchema>): CircuitBreakerSnapshot {
  return typeof initial === 'string'
    ? { state: initial, isolated: false, openedAt: null, failureCount: 0 }
    : initial;
}
