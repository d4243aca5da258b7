import {
  durationMs,
  intAtLeast,
  loggerOption,
  MAX_TIMER_MS,
  nonEmptyString,
  parseEndpointString,
  randomOption,
} from '@clone/internal';
import { type Logger, noopLogger, parseOptions, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { Etcd3 } from 'etcd3';
import { z } from 'zod';
import type { BackendConnection, BackendListener, RegistryBackend } from './backend';
import { etcdClientOptions, reconnectBackoff } from './etcd-client';
import { EtcdConnection } from './etcd-connection';

/**
 * An etcd endpoint as etcd3 takes it: `[http(s)://]host:port`. A port outside 1–65535 is
 * refused here rather than failing later inside the client.
 */
const etcdHost = nonEmptyString().superRefine((host, ctx) => {
  const parsed = parseEndpointString(host.replace(/^https?:\/\//, '').replace(/\/$/, ''));
  if (parsed !== undefined && 'error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error });
});

/** A keepalive timer of the lease must hold the TTL. */
const MAX_TTL_SECONDS = Math.floor(MAX_TIMER_MS / 1000);

const optionsSchema = z.strictObject({
  /** etcd endpoints, e.g. `http://127.0.0.1:2379`. Either this or `client`. */
  hosts: z.union([etcdHost, z.array(etcdHost).min(1)]).optional(),
  /** An etcd3 client of your own; never closed by the backend, and its fault handling is yours. */
  client: z.custom<Etcd3>((v) => v instanceof Etcd3, { error: 'must be an Etcd3 client' }).optional(),
  /** Every instance is a key under this prefix: `<prefix><serviceName>/<serviceId>`. */
  prefix: nonEmptyString().default('/clone/services/'),
  /**
   * Lease TTL: how long a process that died without deregistering stays visible. Kept alive
   * every TTL/3. etcd rounds TTLs below its minimum (about 2 s by default) up. At most what a
   * timer holds, in seconds.
   */
  ttlSeconds: intAtLeast(1)
    .max(MAX_TTL_SECONDS, { error: `must be at most ${MAX_TTL_SECONDS} seconds, the longest a timer holds` })
    .default(10),
  /** Deadline of each etcd request (not streams). Default 5 s. */
  callTimeoutMs: durationMs().default(5_000),
  /**
   * The longest wait between two attempts to reach etcd while it is unreachable (the watch and
   * re-reading the registry), so the registry reconnects within about this long of etcd's
   * return. Default 1 s.
   */
  reconnectMaxMs: durationMs().default(1_000),
  /** Uniform numbers in [0, 1), for the reconnect jitter. Default `Math.random`. */
  random: randomOption().default(() => Math.random),
  logger: loggerOption<Logger>().default(noopLogger),
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
    const o = this.#options;
    const client =
      o.client ??
      new Etcd3(
        etcdClientOptions({
          hosts: o.hosts!,
          callTimeoutMs: o.callTimeoutMs,
          reconnectMaxMs: o.reconnectMaxMs,
          random: o.random,
        }),
      );
    return new EtcdConnection(
      {
        client,
        ownsClient: o.client === undefined,
        prefix: o.prefix,
        ttlSeconds: o.ttlSeconds,
        callTimeoutMs: o.callTimeoutMs,
        reconnect: reconnectBackoff(o.reconnectMaxMs),
        random: o.random,
        logger: o.logger,
      },
      listener,
    );
  }
}
