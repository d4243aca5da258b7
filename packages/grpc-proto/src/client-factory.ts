import { readFileSync } from 'node:fs';
import { intAtLeast, nonEmptyString } from '@clone/internal';
import { parseOptions, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import * as grpc from '@grpc/grpc-js';
import { z } from 'zod';
import { decorateCalls } from './call-decorator';
import type { TokenSource } from './interceptors';
import { clientConstructor, SERVICE_PROTOS, type ServiceKind } from './protos';
import { type ServiceClient, withPromises } from './typed-client';

/** Where a client connects: an endpoint, a `host:port` / grpc-js target URI, or a service name. */
export type ClientTarget = { host: string; port: number } | string;

const isFunction = (v: unknown): boolean => typeof v === 'function';
const pem = z.union([z.string(), z.instanceof(Buffer)]);

/** TLS settings: PEM contents (strings or Buffers) or `…File` paths. */
const tlsSchema = z.strictObject({
  /** CA certificates to trust; default: Node's root store. */
  rootCerts: pem.optional(),
  rootCertsFile: nonEmptyString().optional(),
  /** Client certificate and key, for mutual TLS. */
  certChain: pem.optional(),
  certChainFile: nonEmptyString().optional(),
  privateKey: pem.optional(),
  privateKeyFile: nonEmptyString().optional(),
  /** Expected server name when it differs from the target host (`grpc.ssl_target_name_override`). */
  serverName: nonEmptyString().optional(),
});

/** The schema of {@link ClientFactoryOptions}. */
export const clientFactoryOptionsSchema = z.strictObject({
  /** `'insecure'` (default, plaintext: loopback or a trusted mesh), TLS settings, or grpc-js credentials. */
  credentials: z
    .union([
      z.literal('insecure'),
      tlsSchema,
      z.custom<grpc.ChannelCredentials>((v) => v instanceof grpc.ChannelCredentials, {
        error: "must be 'insecure', TLS settings or grpc ChannelCredentials",
      }),
    ])
    .default('insecure'),
  /** Deadline given to calls that have none, in ms. Default 30 000; 0 disables it. */
  defaultDeadlineMs: intAtLeast(0).default(30_000),
  /** HTTP/2 keepalive pings; off unless set (servers must permit the ping rate). */
  keepalive: z
    .strictObject({
      /** Interval between pings, in ms (default 30 000). */
      timeMs: intAtLeast(1).default(30_000),
      /** How long a ping may stay unanswered before the connection is dropped (default 10 000). */
      timeoutMs: intAtLeast(1).default(10_000),
      /** Ping while no call is active (default false). */
      permitWithoutCalls: z.boolean().default(false),
    })
    .optional(),
  /** Interceptors every client of this factory runs, after its own (outermost first). */
  interceptors: z.array(z.custom<grpc.Interceptor>(isFunction, { error: 'must be a function' })).default([]),
  /** Extra grpc-js channel options, e.g. `{ 'grpc.max_receive_message_length': 16_777_216 }`. */
  channelOptions: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
});

/** Options of a {@link ClientFactory}. */
export type ClientFactoryOptions = z.input<typeof clientFactoryOptionsSchema>;

/** Per-client options of {@link ClientFactory.create}. */
export interface CreateClientOptions {
  /** Interceptors of this client only, run before the factory's (e.g. its auth interceptor). */
  interceptors?: readonly grpc.Interceptor[] | undefined;
  /** Name put on this client's errors; default the service kind. */
  serviceName?: string | undefined;
  /** Signs this client's calls (`authorization: Bearer …`), e.g. `auth.createTokenProvider(…)`. */
  token?: TokenSource | undefined;
}

function read(value: string | Buffer | undefined, file: string | undefined): Buffer | null {
  if (value !== undefined) return Buffer.isBuffer(value) ? value : Buffer.from(value);
  return file === undefined ? null : readFileSync(file);
}

/**
 * Makes typed clients of the five services. Clients of one target share one grpc-js channel
 * (one HTTP/2 connection per backend), whatever interceptors each has; `close()` closes them.
 * A bare name (`'asr'`) is looked up through service discovery (`clone:///asr`, see
 * `registerCloneResolver`); `host:port`, `{ host, port }` and grpc-js target URIs connect directly.
 */
export class ClientFactory {
  readonly #credentials: grpc.ChannelCredentials;
  readonly #channelOptions: grpc.ChannelOptions;
  readonly #interceptors: readonly grpc.Interceptor[];
  readonly #defaultDeadlineMs: number | undefined;
  readonly #channels = new Map<string, grpc.Channel>();
  #closed = false;

  constructor(options: ClientFactoryOptions = {}) {
    const o = parseOptions(clientFactoryOptionsSchema, options, 'ClientFactory');
    const channelOptions: grpc.ChannelOptions = { ...o.channelOptions };
    if (o.credentials === 'insecure') this.#credentials = grpc.credentials.createInsecure();
    else if (o.credentials instanceof grpc.ChannelCredentials) this.#credentials = o.credentials;
    else {
      const tls = o.credentials;
      this.#credentials = grpc.credentials.createSsl(
        read(tls.rootCerts, tls.rootCertsFile),
        read(tls.privateKey, tls.privateKeyFile),
        read(tls.certChain, tls.certChainFile),
      );
      if (tls.serverName !== undefined) channelOptions['grpc.ssl_target_name_override'] = tls.serverName;
    }
    if (o.keepalive !== undefined) {
      channelOptions['grpc.keepalive_time_ms'] = o.keepalive.timeMs;
      channelOptions['grpc.keepalive_timeout_ms'] = o.keepalive.timeoutMs;
      channelOptions['grpc.keepalive_permit_without_calls'] = o.keepalive.permitWithoutCalls ? 1 : 0;
    }
    this.#channelOptions = channelOptions;
    this.#interceptors = o.interceptors;
    this.#defaultDeadlineMs = o.defaultDeadlineMs === 0 ? undefined : o.defaultDeadlineMs;
  }

  /** The grpc-js target for a {@link ClientTarget}. */
  static targetOf(target: ClientTarget): string {
    if (typeof target !== 'string') {
      if (typeof target?.host !== 'string' || target.host === '' || !Number.isInteger(target.port)) {
        throw new ServiceError(
          ServiceErrorCode.BAD_REQUEST,
          `client target must be { host, port }, 'host:port' or a service name, got ${JSON.stringify(target)}`,
          undefined,
          { retryable: false, metadata: { field: 'endpoint' } },
        );
      }
      return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
    }
    if (target.includes(':') || target.includes('/')) return target;
    return `clone:///${target}`;
  }

  /** The shared channel of a target, created on first use. */
  channel(target: ClientTarget): grpc.Channel {
    this.#assertOpen();
    const address = ClientFactory.targetOf(target);
    let channel = this.#channels.get(address);
    if (channel === undefined) {
      channel = new grpc.Channel(address, this.#credentials, this.#channelOptions);
      this.#channels.set(address, channel);
    }
    return channel;
  }

  /** A typed client of `kind` at `target`, on the target's shared channel. */
  create<K extends ServiceKind>(
    kind: K,
    target: ClientTarget,
    options: CreateClientOptions = {},
  ): ServiceClient<K> {
    const Ctor = clientConstructor(kind);
    const channel = this.channel(target);
    const interceptors = [...(options.interceptors ?? []), ...this.#interceptors];
    const client = new Ctor(ClientFactory.targetOf(target), this.#credentials, {
      channelOverride: channel,
      // No interceptor unless asked for: correlation, deadline and token are added by decorateCalls.
      ...(interceptors.length === 0 ? {} : { interceptors }),
    });
    decorateCalls(client, Ctor.service, { defaultDeadlineMs: this.#defaultDeadlineMs, token: options.token });
    return withPromises(client, Ctor.service, options.serviceName ?? kind) as unknown as ServiceClient<K>;
  }

  /** Targets with an open channel. */
  get targets(): string[] {
    return [...this.#channels.keys()];
  }

  /** Closes every channel: their calls end with CANCELLED and no connection stays open. */
  close(): void {
    this.#closed = true;
    for (const channel of this.#channels.values()) channel.close();
    this.#channels.clear();
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'ClientFactory is closed', undefined, {
        retryable: false,
      });
    }
  }
}

/** The fully qualified gRPC service name of a kind, e.g. `asr.ASRService`. */
export function serviceFullName(kind: ServiceKind): string {
  return SERVICE_PROTOS[kind].fullName;
}
