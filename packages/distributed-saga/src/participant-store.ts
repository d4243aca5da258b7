import type { JsonValue } from '@clone/saga';
import type { WireError } from './messages';

/**
 * The final outcome of a command, as a participant records it:
 * - `succeeded`: the step (or compensation) ran and its side effects happened;
 * - `failed`: it failed in a way a retry cannot change (a ServiceError that is not retryable);
 * - `cancelled`: its compensation arrived first, so the step must never run.
 * Retryable failures are not outcomes: nothing is recorded, and the next send runs it again.
 */
export type RecordedOutcome =
  | { status: 'succeeded'; result: JsonValue }
  | { status: 'failed'; error: WireError }
  | { status: 'cancelled' };

/**
 * Where a participant keeps the outcomes of the commands it ran: its inbox, keyed by command id.
 * A command sent again (a retry of a lost reply, an orchestrator recovering after a crash) is
 * answered from here without running its handler again.
 */
export interface ParticipantStore {
  /** Creates whatever the store needs. Idempotent. */
  init(): Promise<void>;
  /** The recorded outcome of `commandId`, if any. */
  get(commandId: string): Promise<RecordedOutcome | undefined>;
  /**
   * Records `outcome` unless an outcome is recorded already; resolves with the one that is
   * recorded (the first wins: a step that finishes after its compensation marked it cancelled
   * learns it here).
   */
  record(commandId: string, outcome: RecordedOutcome): Promise<RecordedOutcome>;
  close(): Promise<void>;
}

/**
 * The embedded store: outcomes in this process's memory, the oldest forgotten past `capacity`.
 * It absorbs repeated commands while the process lives; a participant that must answer the same
 * after a restart (and so never apply a recorded step twice) uses `PostgresParticipantStore`.
 */
export class MemoryParticipantStore implements ParticipantStore {
  readonly #outcomes = new Map<string, RecordedOutcome>();
  readonly #capacity: number;

  constructor(capacity = 100_000) {
    this.#capacity = capacity;
  }

  async init(): Promise<void> {}

  async get(commandId: string): Promise<RecordedOutcome | undefined> {
    return this.#outcomes.get(commandId);
  }

  async record(commandId: string, outcome: RecordedOutcome): Promise<RecordedOutcome> {
    const existing = this.#outcomes.get(commandId);
    if (existing !== undefined) return existing;
    if (this.#outcomes.size >= this.#capacity) {
      // A Map iterates in insertion order: the first key is the oldest.
      const oldest = this.#outcomes.keys().next().value;
      if (oldest !== undefined) this.#outcomes.delete(oldest);
    }
    this.#outcomes.set(commandId, outcome);
    return outcome;
  }

  async close(): Promise<void> {}
}
