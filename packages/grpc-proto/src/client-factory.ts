import {
  clockOption,
  durationMs,
  endpointSchema,
  formatEndpoint,
  formatValue,
  functionOption,
  nonEmptyString,
  parseEndpointString,
  safeRecord,
} from '@clone/internal';
import { type Clock, parseOptions, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import * as grpc from '@grpc/grpc-js';
import { z } from 'zod';
import type { CallTelemetry } from './call-telemetry';
import { channelSecurity, credentialsSettingSchema } from './channel-credentials';
import {
  contextInterceptor,
  InFlightCalls,
  type TokenSource,
  tokenSourceSchema,
} from './client-context-interceptor';
import { badRequest } from './errors';
import { clientConstructor, type ServiceKind } from './protos';
import { type ServiceClient, withPromises } from './typed-client';

/** Where a client connects: an endpoint, a `host:port` / grpc-js target URI, or a service name. */
export type ClientTarget = { host: string; port: number } | string;

/** Turns a bare service name into the grpc-js target that resolves it (a `registerCloneResolver` registration). */
export interface ServiceNameResolver {
  target(serviceName: string): string;
}

/** The schema of {@link ClientFactoryOptions}. */
export const clientFactoryOptionsSchema = z.strictObject({
  /** `'insecure'` (default, plaintext: loopback or a trusted mesh), TLS settings, or grpc-js credentials. */
  credentials: credentialsSettingSchema.default('insecure'),
  /** Deadline given to calls that have none, in ms. Default 30 000; 0 disables it. */
  defaultDeadlineMs: durationMs(0).default(30_000),
  /** HTTP/2 keepalive pings; off unless set (servers must permit the ping rate). */
  keepalive: z
    .strictObject({
      /** Interval between pings, in ms (default 30 000). */
      timeMs: durationMs().default(30_000),
      /** How long a ping may stay unanswered before the connection is dropped (default 10 000). */
      timeoutMs: durationMs().default(10_000),
      /** Ping while no call is active (default false). */
      permitWithoutCalls: z.boolean().default(false),
    })
    .optional(),
  /** Interceptors every client of this factory runs, after its own (outermost first). */
  interceptors: z.array(functionOption<grpc.Interceptor>()).default([]),
  /** Extra grpc-js channel options, e.g. `{ 'grpc.max_receive_message_length': 16_777_216 }`. */
  channelOptions: safeRecord(z.union([z.string(), z.number()])).optional(),
  /**
   * How bare service names are resolved: a `registerCloneResolver(registry)` registration, so
   * this factory's clients resolve through that registry only. Default `clone:///<name>`.
   */
  resolver: z
    .custom<ServiceNameResolver>((v) => typeof (v as ServiceNameResolver | null)?.target === 'function', {
      error: 'must be a resolver registration (with target(serviceName))',
    })
    .optional(),
  /** Where "now" comes from for default deadlines. Default the system clock. */
  clock: clockOption<Clock>().optional(),
  /** Makes the correlation id of a call made outside any call context. Default a random UUID. */
  createCorrelationId: functionOption<() => string>().optional(),
});

/** Options of a {@link ClientFactory}. */
export type ClientFactoryOptions = z.input<typeof clientFactoryOptionsSchema>;

const createClientOptionsSchema = z.strictObject({
  interceptors: z.array(functionOption<grpc.Interceptor>()).readonly().optional(),
  serviceName: nonEmptyString().optional(),
  token: tokenSourceSchema.optional(),
});

/** Per-client options of {@link ClientFactory.create}. */
export interface CreateClientOptions {
  /** Interceptors of this client only, run before the factory's (e.g. its auth interceptor). */
  interceptors?: readonly grpc.Interceptor[] | undefined;
  /** Name put on this client's errors; default the service kind. */
  serviceName?: string | undefined;
  /** Signs this client's calls (`authorization: Bearer …`), e.g. `auth.createTokenProvider(…)`. */
  token?: TokenSource | undefined;
}

/** A grpc-js target URI (`dns:///host:port`, `unix:/path`, `ipv4:…`): passed on as given. */
const URI = /^(?:[a-z][a-z\d+.-]*:\/\/|(?:dns|unix|unix-abstract|ipv4|ipv6|vsock):)/i;

function badTarget(message: string): ServiceError {
  return badRequest(message, 'endpoint');
}

// Declared before the class: its static block assigns it when the class is defined.
/**
 * A factory whose clients' calls ask `telemetry` (the manager's hook, installed after the
 * clients are made, so read per call) for their spans. @internal
 */
export let managedClientFactory: (
  options: ClientFactoryOptions,
  telemetry: () => CallTelemetry | undefined,
) => ClientFactory;

/**
 * Makes typed clients of the five services. Clients of one target share one grpc-js channel
 * (one HTTP/2 connection per backend), whatever interceptors each has; `close()` closes them.
 * A bare name (`'asr'`) is looked up through service discovery (the `resolver` option's
 * registry, else `clone:///asr`, see `registerCloneResolver`); `host:port`, `{ host, port }` and
 * grpc-js target URIs connect directly.
 */
export class ClientFactory {
  readonly #credentials: grpc.ChannelCredentials;
  readonly #channelOptions: grpc.ChannelOptions;
  readonly #interceptors: readonly grpc.Interceptor[];
  readonly #defaultDeadlineMs: number | undefined;
  readonly #resolver: ServiceNameResolver | undefined;
  readonly #clock: Clock | undefined;
  readonly #createCorrelationId: (() => string) | undefined;
  readonly #channels = new Map<string, grpc.Channel>();
  readonly #inFlight = new InFlightCalls();
  /** The tracing hook of the manager that owns this factory, read per call. */
  #telemetry: (() => CallTelemetry | undefined) | undefined;
  #closed = false;

  static {
    managedClientFactory = (options, telemetry) => {
      const factory = new ClientFactory(options);
      factory.#telemetry = telemetry;
      return factory;
    };
  }

  constructor(options: ClientFactoryOptions = {}) {
    const o = parseOptions(clientFactoryOptionsSchema, options, 'ClientFactory');
    const security = channelSecurity(o.credentials);
    const channelOptions: grpc.ChannelOptions = { ...o.channelOptions, ...security.channelOptions };
    this.#credentials = security.credentials;
    if (o.keepalive !== undefined) {
      channelOptions['grpc.keepalive_time_ms'] = o.keepalive.timeMs;
      channelOptions['grpc.keepalive_timeout_ms'] = o.keepalive.timeoutMs;
      channelOptions['grpc.keepalive_permit_without_calls'] = o.keepalive.permitWithoutCalls ? 1 : 0;
    }
    this.#channelOptions = channelOptions;
    this.#interceptors = o.interceptors;
    this.#defaultDeadlineMs = o.defaultDeadlineMs === 0 ? undefined : o.defaultDeadlineMs;
    this.#resolver = o.resolver;
    this.#clock = o.clock;
    this.#createCorrelationId = o.createCorrelationId;
  }

  /**
   * The grpc-js target for a {@link ClientTarget}: an endpoint as `host:port` (port 1–65535,
   * else BAD_REQUEST naming `endpoint`), a URI as given, a bare service name through the
   * `resolver` (default `clone:///<name>`).
   */
  targetOf(target: ClientTarget): string {
    if (typeof target !== 'string') {
      const host = (target as { host?: unknown } | null)?.host;
      const port = (target as { port?: unknown } | null)?.port;
      const parsed = endpointSchema.safeParse({ host, port });
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw badTarget(
          `client endpoint ${String(issue.path[0] ?? '')} ${issue.message}, got ${formatValue(target)}` +
            " (expected { host, port }, 'host:port' or a service name)",
        );
      }
      return formatEndpoint(parsed.data);
    }
    if (target === '')
      throw badTarget('client target must be { host, port }, \'host:port\' or a service name, got ""');
    if (URI.test(target)) return target;
    const endpoint = parseEndpointString(target);
    if (endpoint !== undefined) {
      if ('error' in endpoint)
        throw badTarget(`client endpoint ${JSON.stringify(target)}: ${endpoint.error}`);
      return formatEndpoint(endpoint);
    }
    if (target.includes(':') || target.includes('/')) return target;
    return this.#resolver === undefined ? `clone:///${target}` : this.#resolver.target(target);
  }

  /** The shared channel of a target, created on first use. */
  channel(target: ClientTarget): grpc.Channel {
    this.#assertOpen();
    return this.#channelAt(this.targetOf(target));
  }

  #channelAt(address: string): grpc.Channel {
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
    input: CreateClientOptions = {},
  ): ServiceClient<K> {
    this.#assertOpen();
    const options = parseOptions(createClientOptionsSchema, input, 'ClientFactory.create');
    const Ctor = clientConstructor(kind);
    const address = this.targetOf(target);
    const channel = this.#channelAt(address);
    // The context interceptor runs first, so the others see the call's id, token and deadline,
    // and cancelling it at close() ends the whole chain.
    const context = contextInterceptor(
      {
        defaultDeadlineMs: this.#defaultDeadlineMs,
        token: options.token,
        clock: this.#clock,
        createCorrelationId: this.#createCorrelationId,
      },
      this.#inFlight,
      this.#telemetry,
    );
    const client = new Ctor(address, this.#credentials, {
      channelOverride: channel,
      interceptors: [context, ...(options.interceptors ?? []), ...this.#interceptors],
    });
    return withPromises(client, Ctor.service, options.serviceName ?? kind) as unknown as ServiceClient<K>;
  }

  /** The channel credentials of every client of this factory (also for health checks of the same instances). */
  get credentials(): grpc.ChannelCredentials {
    return this.#credentials;
  }

  /** Targets with an open channel. */
  get targets(): string[] {
    return [...this.#channels.keys()];
  }

  /**
   * Closes every channel: calls in flight end at once with CANCELLED, every later call of a
   * client made here ends with CANCELLED too (a ServiceError in the promise form), and no
   * connection stays open.
   */
  close(): void {
    this.#closed = true;
    this.#inFlight.close();
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
