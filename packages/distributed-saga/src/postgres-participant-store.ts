import { intAtLeast, nonEmptyString, objectOption, sqlTableName } from '@clone/internal';
import { parseOptions, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import pg from 'pg';
import { z } from 'zod';
import type { ParticipantStore, RecordedOutcome } from './participant-store';
import { StatementBatcher } from './statement-batcher';

const optionsSchema = z.strictObject({
  /** A pool you own (you end it). Either this or `connectionString`. */
  pool: objectOption<pg.Pool>(['query'], 'must be a pg Pool').optional(),
  /** Creates (and on close ends) a pool of its own. */
  connectionString: nonEmptyString().optional(),
  /** Table name. */
  table: sqlTableName().default('clone_saga_participant'),
  /** Connections of the pool it creates. */
  maxConnections: intAtLeast(1).default(8),
  /**
   * Statements of each kind (reads, records) in flight at once; the commands arriving meanwhile
   * share the next one. Default: the pool's connections, so commands are batched only when they
   * would otherwise wait for a connection anyway (one statement each, in the pool's queue).
   */
  maxConcurrentStatements: intAtLeast(1, 1000).optional(),
  /** Most commands in one statement. */
  maxBatchSize: intAtLeast(1, 10_000).default(500),
});

interface OutcomeWrite {
  commandId: string;
  outcome: RecordedOutcome;
}

/** Options of {@link PostgresParticipantStore}. */
export type PostgresParticipantStoreOptions = z.input<typeof optionsSchema>;

/**
 * A participant's outcomes in PostgreSQL: one row per command id, written once (`ON CONFLICT DO
 * NOTHING`), so every instance of the service and every restart of it answers a repeated
 * command the same way. `recorded_at` is the database's clock at the write: after it, the
 * command's handler never runs again. Reads and records are batched: while
 * `maxConcurrentStatements` of a kind run, the commands arriving share the next statement (one
 * commit for many records), and a lone command gets its own at once.
 */
export class PostgresParticipantStore implements ParticipantStore {
  readonly #pool: pg.Pool;
  readonly #ownsPool: boolean;
  readonly #t: string;
  readonly #reads: StatementBatcher<string, RecordedOutcome | undefined>;
  readonly #records: StatementBatcher<OutcomeWrite, RecordedOutcome>;
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
    // pg's Pool keeps its options; 10 is its own default size.
    const poolSize = (this.#pool as { options?: { max?: number } }).options?.max ?? 10;
    const inFlight = o.maxConcurrentStatements ?? poolSize;
    this.#reads = new StatementBatcher((ids) => this.#read(ids), inFlight, o.maxBatchSize);
    this.#records = new StatementBatcher((records) => this.#write(records), inFlight, o.maxBatchSize);
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

  get(commandId: string): Promise<RecordedOutcome | undefined> {
    return this.#reads.submit(commandId);
  }

  record(commandId: string, outcome: RecordedOutcome): Promise<RecordedOutcome> {
    return this.#records.submit({ commandId, outcome });
  }

  /** The recorded outcomes of `ids`, in their order. */
  async #read(ids: string[]): Promise<(RecordedOutcome | undefined)[]> {
    try {
      if (ids.length === 1) {
        const { rows } = await this.#pool.query<{ outcome: RecordedOutcome }>({
          name: `${this.#t}_get`,
          text: `SELECT outcome FROM ${this.#t} WHERE command_id = $1`,
          values: ids,
        });
        return [rows[0]?.outcome];
      }
      const found = await this.#outcomes(ids);
      return ids.map((id) => found.get(id));
    } catch (error) {
      throw wrap(error, 'could not read an outcome');
    }
  }

  async #outcomes(ids: string[]): Promise<Map<string, RecordedOutcome>> {
    const { rows } = await this.#pool.query<{ command_id: string; outcome: RecordedOutcome }>({
      name: `${this.#t}_get_many`,
      text: `SELECT command_id, outcome FROM ${this.#t} WHERE command_id = ANY($1::text[])`,
      values: [ids],
    });
    return new Map(rows.map((r) => [r.command_id, r.outcome]));
  }

  /**
   * Writes the records of one statement, first write wins: each resolves with the outcome that
   * is recorded for its command, its own (the same object) when it was first, in the table or
   * earlier in this batch.
   */
  async #write(records: OutcomeWrite[]): Promise<RecordedOutcome[]> {
    const first = new Map<string, RecordedOutcome>();
    for (const r of records) if (!first.has(r.commandId)) first.set(r.commandId, r.outcome);
    const ids = [...first.keys()];
    let inserted: Set<string>;
    try {
      if (ids.length === 1) {
        // A lone record (the sequential case): the plain statement, cheaper for the server.
        const { rowCount } = await this.#pool.query({
          name: `${this.#t}_record`,
          text: `INSERT INTO ${this.#t} (command_id, outcome) VALUES ($1, $2::jsonb) ON CONFLICT (command_id) DO NOTHING`,
          values: [ids[0], JSON.stringify(first.get(ids[0]!))],
        });
        inserted = new Set(rowCount === 1 ? ids : []);
      } else {
        const { rows } = await this.#pool.query<{ command_id: string }>({
          name: `${this.#t}_record_many`,
          text: `INSERT INTO ${this.#t} (command_id, outcome)
                 SELECT * FROM unnest($1::text[], $2::jsonb[])
                 ON CONFLICT (command_id) DO NOTHING RETURNING command_id`,
          values: [ids, ids.map((id) => JSON.stringify(first.get(id)))],
        });
        inserted = new Set(rows.map((r) => r.command_id));
      }
    } catch (error) {
      throw wrap(error, 'could not record an outcome');
    }
    // Recorded before (a compensation's cancel, another instance): those outcomes stand.
    const before = ids.filter((id) => !inserted.has(id));
    if (before.length > 0) {
      let found: Map<string, RecordedOutcome>;
      try {
        found = await this.#outcomes(before);
      } catch (error) {
        throw wrap(error, 'could not record an outcome');
      }
      for (const id of before) {
        const recorded = found.get(id);
        if (recorded === undefined) throw wrap(new Error('outcome vanished'), 'could not record an outcome');
        first.set(id, recorded);
      }
    }
    return records.map((r) => first.get(r.commandId)!);
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
