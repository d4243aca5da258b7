import { intAtLeast, nonEmptyString } from '@clone/internal';
import { type Logger, noopLogger, parseOptions, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { Etcd3, type IKeyValue, type IOptions, type Lease, type Watcher } from 'etcd3';
import { z } from 'zod';
import type { BackendConnection, BackendListener, RegistryBackend } from './backend';
import { parseInstance, type ServiceInstance } from './instance';

const optionsSchema = z.strictObject({
  /** etcd endpoints, e.g. `http://127.0.0.1:2379`. Either this or `client`. */
  hosts: z.union([nonEmptyString(), z.array(nonEmptyString()).min(1)]).optional(),
  /** An etcd3 client of your own; never closed by the backend. */
  client: z.custom<Etcd3>((v) => v instanceof Etcd3, { error: 'must be an Etcd3 client' }).optional(),
  /** Every instance is a key under this prefix: `<prefix><serviceName>/<serviceId>`. */
  prefix: nonEmptyString().default('/clone/services/'),
  /**
   * Lease TTL: how long a process that died without deregistering stays visible. Kept alive
   * every TTL/3. etcd rounds TTLs below its minimum (about 2 s by default) up.
   */
  ttlSeconds: intAtLeast(1).default(10),
  /** Deadline of each etcd request (not streams). Default 5 s. */
  callTimeoutMs: intAtLeast(1).default(5_000),
  logger: z.custom<Logger>((v) => typeof (v as Logger | null)?.warn === 'function').default(noopLogger),
});

/** Options of an {@link EtcdBackend}. */
export type EtcdBackendOptions = z.input<typeof optionsSchema>;

/**
 * Instances in etcd, shared by every process pointed at the same cluster and prefix. Each
 * registry's instances are keys attached to its own lease (TTL + keepalive), so a process that
 * dies disappears from every view within the TTL; a prefix watch keeps each registry's view
 * current; after an outage the watch resumes, the view is re-read, and the registry publishes
 * its own instances again (on a new lease if the old one expired).
 *
 * ```ts
 * import { EtcdBackend } from '@clone/service-discovery/etcd';
 * const registry = new ServiceRegistry({ backend: new EtcdBackend({ hosts: 'http://etcd:2379' }) });
 * ```
 */
export class EtcdBackend implements RegistryBackend {
  readonly kind = 'etcd';
  readonly #options: z.output<typeof optionsSchema>;

  constructor(options: EtcdBackendOptions) {
    this.#options = parseOptions(optionsSchema, options, 'EtcdBackend');
    if (this.#options.hosts === undefined && this.#options.client === undefined) {
      throw new ServiceError(
        ServiceErrorCode.BAD_REQUEST,
        'EtcdBackend: hosts is required (or pass client)',
        undefined,
        {
          retryable: false,
          metadata: { field: 'hosts' },
        },
      );
    }
  }

  connect(listener: BackendListener): BackendConnection {
    return new EtcdConnection(this.#options, listener);
  }
}

/** Capped exponential backoff for watch reconnects (etcd3's default waits up to 30 s). */
function backoff(ms: number, maxMs: number): { duration: number; next(): ReturnType<typeof backoff> } {
  return { duration: ms, next: () => backoff(Math.min(maxMs, ms * 2), maxMs) };
}

class EtcdConnection implements BackendConnection {
  readonly #options: z.output<typeof optionsSchema>;
  readonly #listener: BackendListener;
  readonly #client: Etcd3;
  readonly #ownsClient: boolean;
  /** serviceId → key, for what this connection published. */
  readonly #published = new Map<string, string>();
  /** Keys left behind by renamed instances, deleted on the next successful publish. */
  readonly #stale = new Set<string>();
  #lease: Lease | undefined;
  #watcher: Watcher | undefined;
  /** Reported state; starts `connecting` so a first failure is reported as a disconnection. */
  #state: 'connecting' | 'up' | 'down' = 'connecting';
  #closed = false;
  #resyncing: Promise<void> | undefined;

  constructor(options: z.output<typeof optionsSchema>, listener: BackendListener) {
    this.#options = options;
    this.#listener = listener;
    this.#ownsClient = options.client === undefined;
    const timeout = options.callTimeoutMs;
    this.#client =
      options.client ??
      new Etcd3({
        hosts: options.hosts!,
        dialTimeout: timeout,
        defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeout }),
        faultHandling: { watchBackoff: { duration: 0, next: () => backoff(100, 2_000) } },
      } satisfies IOptions);
    // Granted now, so the first register() costs one put, not a grant and a put.
    this.#currentLease();
    void this.#resync();
  }

  async publish(instance: ServiceInstance): Promise<void> {
    if (this.#closed) return;
    const key = this.#key(instance);
    const previous = this.#published.get(instance.serviceId);
    // Renamed: the old key would otherwise linger until the lease ends.
    if (previous !== undefined && previous !== key) this.#stale.add(previous);
    this.#stale.delete(key);
    this.#published.set(instance.serviceId, key);
    try {
      await this.#currentLease().put(key).value(JSON.stringify(instance)).exec();
      for (const stale of [...this.#stale]) {
        await this.#client.delete().key(stale).exec();
        this.#stale.delete(stale);
      }
    } catch (error) {
      throw this.#error(`publishing '${instance.serviceId}' to etcd failed`, error);
    }
  }

  async withdraw(serviceId: string): Promise<void> {
    const key = this.#published.get(serviceId);
    if (this.#closed || key === undefined) return;
    try {
      await this.#client.delete().key(key).exec();
      if (this.#published.get(serviceId) === key) this.#published.delete(serviceId);
    } catch (error) {
      throw this.#error(`withdrawing '${serviceId}' from etcd failed`, error);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const lease = this.#lease;
    this.#lease = undefined;
    const watcher = this.#watcher;
    this.#watcher = undefined;
    // Revoking deletes our keys at once instead of after the TTL. When etcd is down it cannot
    // succeed: give up after one call timeout and let the lease expire on its own.
    const revoke = lease?.revoke().catch(() => lease.release());
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([revoke, watcher?.cancel()]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, this.#options.callTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    lease?.release();
    if (this.#ownsClient) this.#client.close();
  }

  #key(instance: ServiceInstance): string {
    return `${this.#options.prefix}${encodeURIComponent(instance.serviceName)}/${encodeURIComponent(instance.serviceId)}`;
  }

  #error(message: string, cause: unknown): ServiceError {
    const inner = ServiceError.from(cause);
    return new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, `${message}: ${inner.message}`, undefined, {
      retryable: true,
      cause,
    });
  }

  #currentLease(): Lease {
    if (this.#lease !== undefined && !this.#lease.revoked()) return this.#lease;
    const lease = this.#client.lease(this.#options.ttlSeconds);
    lease.on('lost', (error) => {
      if (this.#lease !== lease) return;
      // Keys on it are gone or going; the registry republishes (on a new lease) when it sees
      // them deleted or when the connection comes back.
      this.#lease = undefined;
      this.#options.logger.warn('etcd backend: lease lost', { error: error.message });
    });
    this.#lease = lease;
    return lease;
  }

  /** Reads the whole prefix, reports it, and (re)starts the watch just after that revision. */
  #resync(): Promise<void> {
    this.#resyncing ??= (async () => {
      let delay = 100;
      while (!this.#closed) {
        try {
          const response = await this.#client.getAll().prefix(this.#options.prefix).exec();
          if (this.#closed) return;
          const instances: ServiceInstance[] = [];
          for (const kv of response.kvs) {
            const instance = this.#decode(kv);
            if (instance !== undefined) instances.push(instance);
          }
          this.#listener.snapshot(instances);
          if (this.#watcher === undefined) await this.#watch(BigInt(response.header.revision) + 1n);
          return;
        } catch (error) {
          if (this.#closed) return;
          this.#setDown(this.#error('reading the registry from etcd failed', error));
          await new Promise((resolve) => setTimeout(resolve, delay).unref());
          delay = Math.min(delay * 2, 2_000);
        }
      }
    })().finally(() => {
      this.#resyncing = undefined;
    });
    return this.#resyncing;
  }

  async #watch(fromRevision: bigint): Promise<void> {
    const watcher = await this.#client
      .watch()
      .prefix(this.#options.prefix)
      .startRevision(fromRevision.toString())
      .create();
    if (this.#closed) {
      await watcher.cancel();
      return;
    }
    this.#watcher = watcher;
    watcher.on('put', (kv) => {
      const instance = this.#decode(kv);
      if (instance !== undefined && !this.#closed) this.#listener.upsert(instance);
    });
    watcher.on('delete', (kv) => {
      const [name, id] = kv.key.toString().slice(this.#options.prefix.length).split('/');
      if (name !== undefined && id !== undefined && !this.#closed) {
        this.#listener.remove(decodeURIComponent(id), decodeURIComponent(name));
      }
    });
    watcher.on('disconnected', (error) => this.#setDown(this.#error('etcd watch disconnected', error)));
    watcher.on('connected', () => {
      // The watch resumes where it stopped; re-reading covers a compacted history too.
      if (this.#state !== 'up') void this.#resync().then(() => this.#setUp());
    });
    // A cancelled watch (e.g. its revision was compacted) is not resumed by etcd3: start over.
    watcher.on('error', (error) => {
      this.#options.logger.warn('etcd backend: watch failed, restarting', { error: error.message });
      if (this.#watcher === watcher) this.#watcher = undefined;
      void watcher.cancel().catch(() => undefined);
      this.#setDown(this.#error('etcd watch cancelled', error));
      void this.#resync();
    });
    this.#setUp();
  }

  #setUp(): void {
    if (this.#state === 'up' || this.#closed) return;
    this.#state = 'up';
    this.#listener.connected();
  }

  #setDown(error: ServiceError): void {
    if (this.#state === 'down' || this.#closed) return;
    this.#state = 'down';
    this.#listener.disconnected(error);
  }

  #decode(kv: IKeyValue): ServiceInstance | undefined {
    try {
      return parseInstance(JSON.parse(kv.value.toString()), 'EtcdBackend');
    } catch (error) {
      this.#options.logger.warn('etcd backend: ignoring a malformed registration', {
        key: kv.key.toString(),
        error: ServiceError.from(error).message,
      });
      return undefined;
    }
  }
}
