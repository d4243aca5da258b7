import { intAtLeast, nonEmptyString } from '@clone/internal';
import { parseOptions, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import pg from 'pg';
import { z } from 'zod';
import type { ParticipantStore, RecordedOutcome } from './participant-store';

const optionsSchema = z.strictObject({
  /** A pool you own (you end it). Either this or `connectionString`. */
  pool: z
    .custom<pg.Pool>(
      (v) => typeof v === 'object' && v !== null && typeof (v as pg.Pool).query === 'function',
      {
        error: 'must be a pg Pool',
      },
    )
    .optional(),
  /** Creates (and on close ends) a pool of its own. */
  connectionString: nonEmptyString().optional(),
  /** Table name. */
  table: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,50}$/, { error: 'must be a lower-case SQL identifier' })
    .default('clone_saga_participant'),
  /** Connections of the pool it creates. */
  maxConnections: intAtLeast(1).default(8),
});

/** Options of {@link PostgresParticipantStore}. */
export type PostgresParticipantStoreOptions = z.input<typeof optionsSchema>;

/**
 * A participant's outcomes in PostgreSQL: one row per command id, written once (`ON CONFLICT DO
 * NOTHING`), so every instance of the service and every restart of it answers a repeated
 * command the same way. `recorded_at` is the database's clock at the write: after it, the
 * command's handler never runs again.
 */
export class PostgresParticipantStore implements ParticipantStore {
  readonly #pool: pg.Pool;
  readonly #ownsPool: boolean;
  readonly #t: string;
  #ready: Promise<void> | undefined;

  constructor(options: PostgresParticipantStoreOptions) {
    const o = parseOptions(optionsSchema, options, 'PostgresParticipantStore');
    if ((o.pool === undefined) === (o.connectionString === undefined)) {
      throw new ServiceError(
        ServiceErrorCode.BAD_REQUEST,
        'PostgresParticipantStore: pass either pool or connectionString',
        undefined,
        { retryable: false },
      );
    }
    this.#t = o.table;
    this.#ownsPool = o.pool === undefined;
    this.#pool = o.pool ?? new pg.Pool({ connectionString: o.connectionString, max: o.maxConnections });
    // An idle client losing its connection must not crash the process; the next query reports it.
    if (this.#ownsPool) this.#pool.on('error', () => undefined);
  }

  /** Creates the table if missing. Safe to call from many processes. */
  init(): Promise<void> {
    this.#ready ??= this.#pool
      .query(
        `CREATE TABLE IF NOT EXISTS ${this.#t} (
           command_id text PRIMARY KEY,
           outcome jsonb NOT NULL,
           recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
         )`,
      )
      .then(
        () => undefined,
        (error: unknown) => {
          // Two processes creating the table at once: one of them loses the race harmlessly.
          const code = (error as { code?: string }).code;
          if (code === '23505' || code === '42P07') return;
          this.#ready = undefined;
          throw wrap(error, 'could not create the participant table');
        },
      );
    return this.#ready;
  }

  async get(commandId: string): Promise<RecordedOutcome | undefined> {
    try {
      const { rows } = await this.#pool.query<{ outcome: RecordedOutcome }>({
        name: `${this.#t}_get`,
        text: `SELECT outcome FROM ${this.#t} WHERE command_id = $1`,
        values: [commandId],
      });
      return rows[0]?.outcome;
    } catch (error) {
      throw wrap(error, 'could not read an outcome');
    }
  }

  async record(commandId: string, outcome: RecordedOutcome): Promise<RecordedOutcome> {
    try {
      const { rowCount } = await this.#pool.query({
        name: `${this.#t}_record`,
        text: `INSERT INTO ${this.#t} (command_id, outcome) VALUES ($1, $2::jsonb) ON CONFLICT (command_id) DO NOTHING`,
        values: [commandId, JSON.stringify(outcome)],
      });
      if (rowCount === 1) return outcome;
    } catch (error) {
      throw wrap(error, 'could not record an outcome');
    }
    // Another execution recorded first (a compensation's cancel, another instance): its outcome stands.
    const recorded = await this.get(commandId);
    if (recorded === undefined) throw wrap(new Error('outcome vanished'), 'could not record an outcome');
    return recorded;
  }

  /** Deletes outcomes recorded more than `olderThanMs` ago (longer than any saga can still resend). */
  async prune(olderThanMs: number): Promise<number> {
    parseOptions(
      z.strictObject({ olderThanMs: intAtLeast(0, Number.MAX_SAFE_INTEGER) }),
      { olderThanMs },
      'PostgresParticipantStore.prune',
    );
    const { rowCount } = await this.#pool.query(
      `DELETE FROM ${this.#t} WHERE recorded_at < clock_timestamp() - $1 * interval '1 millisecond'`,
      [olderThanMs],
    );
    return rowCount ?? 0;
  }

  async close(): Promise<void> {
    if (this.#ownsPool) await this.#pool.end();
  }
}

function wrap(error: unknown, message: string): ServiceError {
  const cause = ServiceError.from(error, 'participant-store');
  return new ServiceError(
    ServiceErrorCode.SERVICE_UNAVAILABLE,
    `PostgresParticipantStore: ${message}: ${cause.message}`,
    'participant-store',
    { retryable: true, cause: error },
  );
}
