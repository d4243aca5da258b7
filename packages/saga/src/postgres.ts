import { functionOption, intAtLeast, nonEmptyString, objectOption, sqlTableName } from '@clone/internal';
import { parseOptions, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import pg from 'pg';
import { z } from 'zod';
import { type SagaTransition, type SagaTransitionHook, transitionOf } from './saga-transition';
import type { SagaRecord, SagaStore, SagaWrite } from './store';

export type { SagaTransition, SagaTransitionHook };

const optionsSchema = z.strictObject({
  /** A pool you own (you end it). Either this or `connectionString`. */
  pool: objectOption<pg.Pool>(['query'], 'must be a pg Pool').optional(),
  /** Creates (and on close ends) a pool of its own. */
  connectionString: nonEmptyString().optional(),
  /** Table name; `<table>_migrations` records the schema version. */
  table: sqlTableName().default('clone_sagas'),
  /** Commits in flight at once; writes arriving meanwhile share the next commit. */
  maxConcurrentCommits: intAtLeast(1).default(4),
  /** Most saga writes in one commit. */
  maxBatchSize: intAtLeast(1).default(500),
  onTransition: functionOption<SagaTransitionHook>().optional(),
});

const deleteFinishedSchema = z.strictObject({ olderThanMs: intAtLeast(0, Number.MAX_SAFE_INTEGER) });

/** Options of {@link PostgresSagaStore}. */
export type PostgresSagaStoreOptions = z.input<typeof optionsSchema>;

interface Pending {
  id: string;
  create: boolean;
  owner: string;
  leaseMs: number;
  type: string;
  correlationId: string | null;
  status: string;
  /** JSON text; null on updates. */
  definition: string | null;
  /** JSON text. */
  state: string;
  resolve(ok: boolean): void;
  reject(error: unknown): void;
}

/** Schema versions, applied in order, each once, under an advisory lock. */
const migrations = (t: string): string[] => [
  `CREATE TABLE ${t} (
     id text PRIMARY KEY,
     type text NOT NULL,
     correlation_id text,
     status text NOT NULL,
     definition jsonb NOT NULL,
     state jsonb NOT NULL,
     owner text NOT NULL,
     lease_until timestamptz NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now()
   ) WITH (fillfactor = 50);
   CREATE INDEX ${t}_claimable ON ${t} (lease_until) WHERE status IN ('running', 'compensating')`,
  `CREATE INDEX ${t}_correlation ON ${t} (correlation_id) WHERE correlation_id IS NOT NULL`,
];

/**
 * Saga state in PostgreSQL: one row per saga, its definition (steps, context) and its state as
 * `jsonb` (`definition || state` is the full record), plus the lease
 * (`owner`, `lease_until`, in database time so clocks of orchestrators need not agree).
 *
 * Writes are group-committed: while `maxConcurrentCommits` commits are in flight, new writes
 * queue and the next commit carries all of them in one statement. A lone saga pays one
 * round trip per transition; many concurrent sagas share fsyncs.
 */
export class PostgresSagaStore implements SagaStore {
  readonly #pool: pg.Pool;
  readonly #ownsPool: boolean;
  readonly #opts: z.output<typeof optionsSchema>;
  readonly #t: string;
  readonly #queue: Pending[] = [];
  #inFlight = 0;
  #drained: (() => void) | undefined;
  #ready: Promise<void> | undefined;
  /** Saga writes accepted, and the commits that carried them (for benchmarks and tests). */
  readonly stats = { writes: 0, commits: 0 };

  constructor(options: PostgresSagaStoreOptions) {
    this.#opts = parseOptions(optionsSchema, options, 'PostgresSagaStore');
    if ((this.#opts.pool === undefined) === (this.#opts.connectionString === undefined)) {
      throw new ServiceError(
        ServiceErrorCode.BAD_REQUEST,
        'PostgresSagaStore: pass either pool or connectionString',
        undefined,
        {
          retryable: false,
        },
      );
    }
    this.#t = this.#opts.table;
    this.#ownsPool = this.#opts.pool === undefined;
    this.#pool =
      this.#opts.pool ??
      new pg.Pool({
        connectionString: this.#opts.connectionString,
        max: this.#opts.maxConcurrentCommits + 4,
      });
    // An idle client losing its connection must not crash the process; the next query reports it.
    if (this.#ownsPool) this.#pool.on('error', () => undefined);
  }

  /** Creates the table or migrates it to the current version. Safe to call from many processes. */
  init(): Promise<void> {
    this.#ready ??= this.#migrate().catch((error: unknown) => {
      this.#ready = undefined;
      throw wrap(error, 'could not create or migrate the saga schema');
    });
    return this.#ready;
  }

  async #migrate(): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${this.#t}_migrations`]);
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.#t}_migrations (
        version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
      const { rows } = await client.query<{ v: number | null }>(
        `SELECT max(version) AS v FROM ${this.#t}_migrations`,
      );
      const current = rows[0]?.v ?? 0;
      const all = migrations(this.#t);
      for (let version = current + 1; version <= all.length; version++) {
        await client.query(all[version - 1]!);
        await client.query(`INSERT INTO ${this.#t}_migrations (version) VALUES ($1)`, [version]);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  write({ record, owner, leaseMs, create }: SagaWrite): Promise<boolean> {
    // Serialised now: the caller goes on mutating the record while the write waits for a commit.
    // What never changes (definition, context) is written once; each transition writes the rest.
    const { id, type, correlationId, context, steps, startedAt, ...state } = record;
    const pending: Omit<Pending, 'resolve' | 'reject'> = {
      id,
      create,
      owner,
      leaseMs,
      type,
      correlationId: correlationId ?? null,
      status: record.status,
      definition: create ? JSON.stringify({ id, type, correlationId, context, steps, startedAt }) : null,
      state: JSON.stringify(state),
    };
    return new Promise<boolean>((resolve, reject) => {
      this.#queue.push({ ...pending, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.#opts.maxConcurrentCommits && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#opts.maxBatchSize);
      this.#inFlight++;
      void this.#commit(batch).finally(() => {
        this.#inFlight--;
        if (this.#inFlight === 0 && this.#queue.length === 0) this.#drained?.();
        this.#pump();
      });
    }
  }

  async #commit(batch: Pending[]): Promise<void> {
    try {
      const hook = this.#opts.onTransition;
      const applied =
        hook === undefined
          ? await this.#statement(this.#pool, batch)
          : await this.#inTransaction(batch, hook);
      this.stats.commits++;
      this.stats.writes += batch.length;
      for (const p of batch) p.resolve(applied.has(p.id));
    } catch (error) {
      const e = wrap(error, 'could not write saga state');
      for (const p of batch) p.reject(e);
    }
  }

  #statement(db: Queryable, batch: Pending[]): Promise<Set<string>> {
    return batch.length === 1 ? this.#commitOne(db, batch[0]!) : this.#commitMany(db, batch);
  }

  /** The same statement, with the transition hook in its transaction. */
  async #inTransaction(batch: Pending[], hook: SagaTransitionHook): Promise<Set<string>> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      const applied = await this.#statement(client, batch);
      for (const p of batch) {
        if (applied.has(p.id))
          await hook(client, transitionOf(p.id, p.type, p.correlationId, p.create, p.state));
      }
      await client.query('COMMIT');
      return applied;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** A lone write (the sequential case): a plain statement, cheaper for the server than the batch form. */
  async #commitOne(db: Queryable, p: Pending): Promise<Set<string>> {
    const t = this.#t;
    const { rowCount } = p.create
      ? await db.query({
          name: `${t}_insert`,
          text: `INSERT INTO ${t} (id, type, correlation_id, status, definition, state, owner, lease_until)
                 VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, now() + $8 * interval '1 millisecond')
                 ON CONFLICT (id) DO NOTHING`,
          values: [p.id, p.type, p.correlationId, p.status, p.definition, p.state, p.owner, p.leaseMs],
        })
      : await db.query({
          name: `${t}_update`,
          text: `UPDATE ${t} SET status = $2, state = $3::jsonb, updated_at = now() WHERE id = $1 AND owner = $4`,
          values: [p.id, p.status, p.state, p.owner],
        });
    return new Set(rowCount === 1 ? [p.id] : []);
  }

  /** Many writes in one statement: one transaction, one WAL flush, however many sagas it carries. */
  async #commitMany(db: Queryable, batch: Pending[]): Promise<Set<string>> {
    const t = this.#t;
    const input = batch.map(
      (p) =>
        `{"id":${JSON.stringify(p.id)},"create":${p.create},"owner":${JSON.stringify(p.owner)},` +
        `"lease_ms":${p.leaseMs},"type":${JSON.stringify(p.type)},"correlation_id":${JSON.stringify(p.correlationId)},` +
        `"status":${JSON.stringify(p.status)},"definition":${p.definition ?? 'null'},"state":${p.state}}`,
    );
    const { rows } = await db.query<{ id: string }>({
      // Prepared once per connection: planning the CTE would otherwise cost as much as running it.
      name: `${t}_write`,
      text: `WITH input AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(
           id text, "create" boolean, owner text, lease_ms int, type text, correlation_id text, status text,
           definition jsonb, state jsonb)
       ), ins AS (
         INSERT INTO ${t} (id, type, correlation_id, status, definition, state, owner, lease_until)
         SELECT id, type, correlation_id, status, definition, state, owner, now() + lease_ms * interval '1 millisecond'
         FROM input WHERE "create"
         ON CONFLICT (id) DO NOTHING
         RETURNING id
       ), upd AS (
         UPDATE ${t} s SET status = i.status, state = i.state, updated_at = now()
         FROM input i
         WHERE NOT i."create" AND s.id = i.id AND s.owner = i.owner
         RETURNING s.id
       )
       SELECT id FROM ins UNION ALL SELECT id FROM upd`,
      values: [`[${input.join(',')}]`],
    });
    return new Set(rows.map((r) => r.id));
  }

  async load(id: string): Promise<SagaRecord | undefined> {
    try {
      const { rows } = await this.#pool.query<{ state: SagaRecord }>(
        `SELECT definition || state AS state FROM ${this.#t} WHERE id = $1`,
        [id],
      );
      return rows[0]?.state;
    } catch (error) {
      throw wrap(error, 'could not read saga state');
    }
  }

  async claim(owner: string, leaseMs: number, limit: number): Promise<SagaRecord[]> {
    try {
      // SKIP LOCKED: orchestrators claiming at once each get different rows instead of queueing.
      const { rows } = await this.#pool.query<{ state: SagaRecord }>(
        `UPDATE ${this.#t} s SET owner = $1, lease_until = now() + $2 * interval '1 millisecond'
         FROM (
           SELECT id FROM ${this.#t}
           WHERE status IN ('running', 'compensating') AND lease_until < now()
           ORDER BY lease_until
           LIMIT $3
           FOR UPDATE SKIP LOCKED
         ) c
         WHERE s.id = c.id
         RETURNING s.definition || s.state AS state`,
        [owner, leaseMs, limit],
      );
      return rows.map((r) => r.state);
    } catch (error) {
      throw wrap(error, 'could not claim sagas');
    }
  }

  async renew(owner: string, ids: readonly string[], leaseMs: number): Promise<string[]> {
    try {
      const { rows } = await this.#pool.query<{ id: string }>(
        `UPDATE ${this.#t} SET lease_until = now() + $2 * interval '1 millisecond'
         WHERE owner = $1 AND id = ANY($3::text[]) AND status IN ('running', 'compensating')
         RETURNING id`,
        [owner, leaseMs, ids],
      );
      return rows.map((r) => r.id);
    } catch (error) {
      throw wrap(error, 'could not renew saga leases');
    }
  }

  async release(owner: string, ids: readonly string[]): Promise<void> {
    try {
      await this.#pool.query(
        `UPDATE ${this.#t} SET lease_until = now() - interval '1 millisecond' WHERE owner = $1 AND id = ANY($2::text[])`,
        [owner, ids],
      );
    } catch (error) {
      throw wrap(error, 'could not release saga leases');
    }
  }

  /**
   * Deletes finished sagas (completed, compensated, failed) last updated more than `olderThanMs`
   * ago; returns how many. Run it from a periodic job: the table keeps every saga otherwise.
   */
  async deleteFinished(olderThanMs: number): Promise<number> {
    // Not a timer, so not bounded by one: a retention of months is fine. A negative or
    // non-integer age would delete what is not old (or fail in SQL), so it is refused.
    parseOptions(deleteFinishedSchema, { olderThanMs }, 'PostgresSagaStore.deleteFinished');
    try {
      const { rowCount } = await this.#pool.query(
        `DELETE FROM ${this.#t} WHERE status IN ('completed', 'compensated', 'failed')
         AND updated_at < now() - $1 * interval '1 millisecond'`,
        [olderThanMs],
      );
      return rowCount ?? 0;
    } catch (error) {
      throw wrap(error, 'could not delete finished sagas');
    }
  }

  async ping(): Promise<void> {
    try {
      await this.#pool.query('SELECT 1');
    } catch (error) {
      throw wrap(error, 'saga store unreachable');
    }
  }

  /** Waits for queued writes, then ends the pool if this store created it. */
  async close(): Promise<void> {
    if (this.#inFlight > 0 || this.#queue.length > 0) {
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
      });
    }
    if (this.#ownsPool) await this.#pool.end();
  }
}

/** A pool or a client checked out of it: where a write's statement runs. */
type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

function wrap(error: unknown, message: string): ServiceError {
  const cause = ServiceError.from(error, 'saga-store');
  return new ServiceError(
    ServiceErrorCode.SERVICE_UNAVAILABLE,
    `PostgresSagaStore: ${message}: ${cause.message}`,
    'saga-store',
    {
      retryable: true,
      cause: error,
    },
  );
}
