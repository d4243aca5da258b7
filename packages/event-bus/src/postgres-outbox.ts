import { clockOption, durationMs, intAtLeast, loggerOption, objectOption } from '@clone/internal';
import {
  type Clock,
  Emitter,
  type Logger,
  noopLogger,
  parseOptions,
  ServiceError,
  systemClock,
  type Unsubscribe,
} from '@clone/service-errors';
import { z } from 'zod';
import type { EventEnvelope } from './event';
import { EventBus } from './event-bus';

/** The part of a `pg` client the outbox uses: a `pg.Pool`, `pg.Client` or pool client fits. */
export interface SqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** The part of a `pg.Pool` the relay uses: one client per round, for its transaction. */
export interface SqlPool extends SqlClient {
  connect(): Promise<SqlClient & { release(error?: Error | boolean): void }>;
}

/** Options of {@link PostgresOutbox}. */
export interface PostgresOutboxOptions {
  /** The service's own `pg.Pool` (the relay takes one client per round from it). */
  pool: SqlPool;
  /** The bus the relay publishes through: a row is marked sent only after its broker confirm. */
  bus: EventBus;
  /** The table, optionally schema-qualified (default `event_outbox`); `migrate()` creates it. */
  table?: string | undefined;
  /** How often the relay looks for unsent rows (default 1000 ms). */
  pollIntervalMs?: number | undefined;
  /** Rows published per round (default 100). */
  batchSize?: number | undefined;
  logger?: Logger | undefined;
  clock?: Clock | undefined;
}

/** What an outbox reports: a relay round that failed (the rows stay and are retried). */
export interface PostgresOutboxEvents {
  error: Error;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;

const optionsSchema = z.strictObject({
  pool: objectOption<SqlPool>(['query', 'connect'], 'must be a pg Pool (with query and connect)'),
  bus: z.custom<EventBus>((v) => v instanceof EventBus, { error: 'must be an EventBus from createEventBus' }),
  table: z
    .string()
    .regex(IDENTIFIER, { error: "must be a lower-case SQL identifier, optionally 'schema.table'" })
    .default('event_outbox'),
  pollIntervalMs: durationMs().default(1000),
  batchSize: intAtLeast(1, 10_000).default(100),
  logger: loggerOption<Logger>().optional(),
  clock: clockOption<Clock>().optional(),
});

/**
 * A transactional outbox on PostgreSQL. A service writes its own rows and, with `add(client,
 * event)`, the event in the same transaction: both commit or neither does, so an event is never
 * published for a change that rolled back, nor lost for one that committed. The relay (`start()`)
 * reads unsent rows (`FOR UPDATE SKIP LOCKED`, so several instances share the work without
 * publishing a row twice at once), publishes each through the bus, which resolves only on the
 * broker's confirm, and marks the confirmed ones sent in the same transaction. A crash between
 * confirm and commit publishes the event again: consumers absorb it by its id.
 */
export class PostgresOutbox {
  readonly #pool: SqlPool;
  readonly #bus: EventBus;
  readonly #table: string;
  readonly #pollMs: number;
  readonly #batchSize: number;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #events = new Emitter<PostgresOutboxEvents>();
  #timer: unknown;
  #running: Promise<unknown> | undefined;
  #started = false;

  constructor(options: PostgresOutboxOptions) {
    const o = parseOptions(optionsSchema, options, 'PostgresOutbox');
    this.#pool = o.pool;
    this.#bus = o.bus;
    this.#table = o.table;
    this.#pollMs = o.pollIntervalMs;
    this.#batchSize = o.batchSize;
    this.#logger = o.logger ?? noopLogger;
    this.#clock = o.clock ?? systemClock;
  }

  /** Creates the outbox table and its index of unsent rows, if missing. */
  async migrate(): Promise<void> {
    const t = this.#table;
    const index = `${t.replace('.', '_')}_unsent`;
    await this.#pool.query(
      `CREATE TABLE IF NOT EXISTS ${t} (
        seq bigserial PRIMARY KEY,
        event_id text NOT NULL UNIQUE,
        event_type text NOT NULL,
        body text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz
      )`,
    );
    await this.#pool.query(`CREATE INDEX IF NOT EXISTS ${index} ON ${t} (seq) WHERE sent_at IS NULL`);
  }

  /**
   * Stores `event` through `client`, the client of the caller's open transaction. The event is
   * checked as `publish` would (BAD_REQUEST naming the field, nothing stored); it is published
   * after the transaction commits.
   */
  async add(client: SqlClient, event: EventEnvelope): Promise<void> {
    const checked = this.#bus.validate(event);
    // The event is published, for tracing, where it is added: the bus's propagation hook stamps
    // it with the caller's context here, and the relay's later publish keeps those headers.
    await this.#bus.propagate(event, (stamped) =>
      client.query(`INSERT INTO ${this.#table} (event_id, event_type, body) VALUES ($1, $2, $3)`, [
        checked.id,
        checked.type,
        JSON.stringify(stamped),
      ]),
    );
  }

  /**
   * Publishes one batch of unsent rows now and marks the confirmed ones sent; resolves how many.
   * A row whose publish failed stays unsent for the next round.
   */
  relay(): Promise<number> {
    const run = this.#relayOnce();
    this.#running = run.catch(() => {});
    return run;
  }

  /** Rows not yet confirmed by the broker. */
  async pending(): Promise<number> {
    const { rows } = await this.#pool.query(
      `SELECT count(*)::int AS n FROM ${this.#table} WHERE sent_at IS NULL`,
    );
    return (rows[0] as { n: number }).n;
  }

  /** Deletes rows sent more than `olderThanMs` ago; resolves how many. */
  async prune(olderThanMs: number): Promise<number> {
    const ms = parseOptions(
      z.strictObject({ olderThanMs: durationMs(0) }),
      { olderThanMs },
      'prune',
    ).olderThanMs;
    const { rows } = await this.#pool.query(
      `WITH gone AS (DELETE FROM ${this.#table} WHERE sent_at < now() - make_interval(secs => $1) RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [ms / 1000],
    );
    return (rows[0] as { n: number }).n;
  }

  /** Starts relaying every `pollIntervalMs` (at once again while full batches come back). Idempotent. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#schedule(0);
  }

  /** Stops the relay and waits for a round in progress. The bus and pool stay open (they are yours). */
  async stop(): Promise<void> {
    this.#started = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** Listens to relay failures; returns an unsubscribe. */
  on<K extends keyof PostgresOutboxEvents>(
    event: K,
    listener: (payload: PostgresOutboxEvents[K]) => void,
  ): Unsubscribe {
    return this.#events.on(event, listener);
  }

  #schedule(delayMs: number): void {
    if (!this.#started) return;
    // Unreferenced: a relay waiting for its next round never keeps the process alive.
    this.#timer = this.#clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.relay().then(
          (sent) => this.#schedule(sent >= this.#batchSize ? 0 : this.#pollMs),
          (error: unknown) => {
            const failure = ServiceError.from(error);
            this.#logger.warn('outbox relay round failed; rows stay for the next round', {
              error: failure.message,
            });
            this.#events.emit('error', failure);
            this.#schedule(this.#pollMs);
          },
        );
      },
      delayMs,
      true,
    );
  }

  async #relayOnce(): Promise<number> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    let sent: string[];
    let failure: PromiseRejectedResult | undefined;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query(
        `SELECT seq, body FROM ${this.#table} WHERE sent_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.#batchSize],
      );
      const batch = rows as { seq: string; body: string }[];
      const results = await Promise.allSettled(batch.map((row) => this.#bus.publish(JSON.parse(row.body))));
      sent = batch.filter((_, i) => results[i]!.status === 'fulfilled').map((row) => row.seq);
      failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (sent.length > 0) {
        await client.query(`UPDATE ${this.#table} SET sent_at = now() WHERE seq = ANY($1::bigint[])`, [sent]);
      }
      await client.query('COMMIT');
    } catch (error) {
      broken = error instanceof Error ? error : new Error(String(error));
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      // A client whose query failed may be mid-transaction: the pool discards it instead of reusing it.
      client.release(broken ?? false);
    }
    // The confirmed rows are marked; the others stay unsent, and the caller hears why.
    if (failure !== undefined) throw failure.reason;
    return sent.length;
  }
}
