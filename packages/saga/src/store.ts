import type { JsonValue } from './json';

/**
 * Where a saga is in its life. `running` and `compensating` are active (owned by one
 * orchestrator through a lease); the other three are final. `failed` means compensation could
 * not finish: the saga needs a person (see `compensationErrors`).
 */
export type SagaStatus = 'running' | 'compensating' | 'completed' | 'compensated' | 'failed';

/**
 * Where a step is. `running` is written before the side effect starts and `completed` after
 * it ends, so after a crash `running` means "may have run" and `completed` means "ran".
 */
export type StepStatus =
  | 'pending'
  | 'running'
  | 'completed'
  | 'failed'
  | 'compensating'
  | 'compensated'
  | 'compensation_failed';

/** An error as stored: what survives a restart of a ServiceError. */
export interface StoredError {
  code: string;
  message: string;
  retryable: boolean;
  service?: string;
  /** The step that failed, on a saga's error. */
  step?: string;
}

/** One step of an orchestrated saga: data naming registered handlers, so any process can run it. */
export interface SagaStepDefinition {
  /** Unique in the saga; part of the idempotency key `${sagaId}:${id}`. */
  id: string;
  /** Human-readable name. */
  name: string;
  /** The service the step calls, for events and errors. */
  service: string;
  /** Name of the handler registered with `registerStepHandler`. */
  action: string;
  /** Name of the handler registered with `registerCompensationHandler`. */
  compensationAction?: string;
  /** Per-attempt timeout in ms (1 to 2^31−1, what a timer holds); the handler's signal aborts when it elapses. */
  timeout?: number;
  /** Retries after the first attempt (0 = one attempt). */
  retryAttempts?: number;
  /** Ids of the steps that must complete before this one starts. */
  dependencies?: string[];
  /** Also compensate this step when it fails (its side effect may be partial). Default false. */
  compensateOnFailure?: boolean;
}

/** The durable state of one step. */
export interface StepState {
  status: StepStatus;
  /** Executions started, counting re-runs after a crash. */
  attempts: number;
  result?: JsonValue;
  error?: StoredError;
  compensationError?: StoredError;
  /** Set when a crash left the step's outcome unknown and the saga compensated it. */
  interrupted?: boolean;
  startedAt?: number;
  completedAt?: number;
}

/** Everything needed to resume a saga in another process. JSON all the way down. */
export interface SagaRecord {
  id: string;
  type: string;
  correlationId?: string;
  status: SagaStatus;
  context: JsonValue;
  steps: readonly SagaStepDefinition[];
  stepStates: Record<string, StepState>;
  /** Step ids in the order their completion was recorded: compensation runs it backwards. */
  completionOrder: string[];
  error?: StoredError;
  cancelReason?: string;
  /** Epoch ms. */
  startedAt: number;
  updatedAt: number;
  completedAt?: number;
}

/** One state transition to persist. */
export interface SagaWrite {
  record: SagaRecord;
  /** The orchestrator that holds the saga's lease. */
  owner: string;
  /** Lease length from now, applied on create (the heartbeat renews it; a store may also renew on write). */
  leaseMs: number;
  /** The first write of a saga: insert, fail if the id exists. */
  create: boolean;
}

/**
 * Durable saga state. The orchestrator writes each transition (at most one write in flight per
 * saga, each a full snapshot) and relies on three guarantees:
 * - `write` copies the record before it returns (the caller keeps mutating it), and resolves
 *   only once the state is durable;
 * - a write by an owner whose lease was taken over resolves `false` and changes nothing
 *   (fencing), as does a create whose id exists;
 * - `claim` hands each active saga whose lease expired to exactly one caller.
 */
export interface SagaStore {
  /** Creates or migrates whatever the store needs. Idempotent. */
  init(): Promise<void>;
  write(write: SagaWrite): Promise<boolean>;
  load(id: string): Promise<SagaRecord | undefined>;
  /** Takes over up to `limit` active sagas whose lease expired. */
  claim(owner: string, leaseMs: number, limit: number): Promise<SagaRecord[]>;
  /** Extends the leases `owner` still holds among `ids`; returns those ids. */
  renew(owner: string, ids: readonly string[], leaseMs: number): Promise<string[]>;
  /** Gives up leases now, so another orchestrator can claim them without waiting for expiry. */
  release(owner: string, ids: readonly string[]): Promise<void>;
  /** Throws when the store is unreachable (health checks). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
