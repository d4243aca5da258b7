import {
  type BackoffOptions,
  backoffDelay,
  type Logger,
  ServiceError,
  ServiceErrorCode,
} from '@clone/service-errors';
import type { Etcd3, IKeyValue, Lease, Watcher } from 'etcd3';
import type { BackendConnection, BackendListener } from './backend';
import { parseInstance, type ServiceInstance } from './instance';

/** What a connection needs from its backend. */
export interface EtcdConnectionSettings {
  client: Etcd3;
  /** Close the client with the connection: the backend made it. */
  ownsClient: boolean;
  prefix: string;
  ttlSeconds: number;
  callTimeoutMs: number;
  /** Between two attempts to re-read the registry while etcd is unreachable. */
  reconnect: BackoffOptions;
  random: () => number;
  logger: Logger;
}

/**
 * One registry's connection to etcd: its instances are keys on a lease of its own, and a
 * prefix watch reports every instance in the store. After an outage the watch resumes, the
 * prefix is read again and the registry told `connected`, so it republishes what it owns.
 * @internal Made by `EtcdBackend.connect`.
 */
export class EtcdConnection implements BackendConnection {
  readonly #settings: EtcdConnectionSettings;
  readonly #listener: BackendListener;
  readonly #client: Etcd3;
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

  constructor(settings: EtcdConnectionSettings, listener: BackendListener) {
    this.#settings = settings;
    this.#listener = listener;
    this.#client = settings.client;
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
        timer = setTimeout(resolve, this.#settings.callTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    lease?.release();
    if (this.#settings.ownsClient) this.#client.close();
  }

  #key(instance: ServiceInstance): string {
    return `${this.#settings.prefix}${encodeURIComponent(instance.serviceName)}/${encodeURIComponent(instance.serviceId)}`;
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
    const lease = this.#client.lease(this.#settings.ttlSeconds);
    lease.on('lost', (error) => {
      if (this.#lease !== lease) return;
      // Keys on it are gone or going; the registry republishes (on a new lease) when it sees
      // them deleted or when the connection comes back.
      this.#lease = undefined;
      this.#settings.logger.warn('etcd backend: lease lost', { error: error.message });
    });
    this.#lease = lease;
    return lease;
  }

  /** Reads the whole prefix, reports it, and (re)starts the watch just after that revision. */
  #resync(): Promise<void> {
    this.#resyncing ??= (async () => {
      const { prefix, reconnect, random } = this.#settings;
      let attempt = 0;
      let delay = 0;
      while (!this.#closed) {
        try {
          const response = await this.#client.getAll().prefix(prefix).exec();
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
          delay = backoffDelay(++attempt, delay, reconnect, random);
          await new Promise((resolve) => setTimeout(resolve, delay).unref());
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
      .prefix(this.#settings.prefix)
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
      const [name, id] = kv.key.toString().slice(this.#settings.prefix.length).split('/');
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
      this.#settings.logger.warn('etcd backend: watch failed, restarting', { error: error.message });
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
      this.#settings.logger.warn('etcd backend: ignoring a malformed registration', {
        key: kv.key.toString(),
        error: ServiceError.from(error).message,
      });
      return undefined;
    }
  }
}
