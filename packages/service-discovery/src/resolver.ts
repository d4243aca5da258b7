import { ServiceError, ServiceErrorCode, type Unsubscribe } from '@clone/service-errors';
import * as grpc from '@grpc/grpc-js';
import type { ServiceInstance } from './instance';
import type { ServiceRegistry } from './registry';

/** The default scheme: `new Client(registration.target('asr'), credentials)`. */
export const CLONE_SCHEME = 'clone';

/** Options of {@link registerCloneResolver}. */
export interface CloneResolverOptions {
  /** The URI scheme to answer for. Default `clone`. */
  scheme?: string;
}

/** One registry's place in the process-wide `clone:` resolver. */
export interface CloneResolverRegistration {
  /** The URI scheme, `clone` by default. */
  readonly scheme: string;
  /** Unique per registration in this process and URI-safe, e.g. `registry-3`. */
  readonly authority: string;
  /** `${scheme}://${authority}/${serviceName}`: a channel target that resolves through this registry only. */
  target(serviceName: string): string;
  /** Detaches this registry: only channels of this authority then fail with UNAVAILABLE. Idempotent. */
  close(): void;
}

type GrpcUri = grpc.experimental.GrpcUri;
type ResolverListener = grpc.experimental.ResolverListener;
type ServiceConfig =
  NonNullable<Parameters<ResolverListener>[2]> extends grpc.experimental.StatusOr<infer C> ? C : never;

interface Registration {
  readonly scheme: string;
  readonly authority: string;
  readonly registry: ServiceRegistry;
  open: boolean;
  /** The resolvers currently subscribed through it, told when it closes. */
  readonly resolvers: Set<CloneResolver>;
}

/**
 * grpc-js keeps resolvers per scheme for the whole process, so the registrations are
 * process-wide too: keyed by authority, in registration order (a Map keeps it), which makes
 * the last open one of a scheme that scheme's default.
 */
const registrations = new Map<string, Registration>();
/** Schemes whose resolver class grpc-js already has. */
const schemes = new Set<string>();
let nextAuthority = 1;

/** Schemes grpc-js resolves itself: answering for one would re-route every channel using it. */
const GRPC_SCHEMES: ReadonlySet<string> = new Set(['dns', 'ipv4', 'ipv6', 'unix', 'unix-abstract']);

const ROUND_ROBIN = {
  loadBalancingConfig: [{ round_robin: {} }],
  methodConfig: [],
} as ServiceConfig;

/**
 * Lets grpc-js channels find servers through `registry`: a channel whose target is
 * `registration.target('asr')` (`clone://registry-1/asr`) connects to the healthy gRPC
 * instances of `asr` in this registry only, balances calls over them with grpc-js's
 * `round_robin`, and follows instances as they come, go and change health.
 *
 * Each call makes a registration of its own with a unique authority, so several registries
 * (two managers, two tenants, a test suite) live side by side in one process, and closing one
 * fails only the channels of its authority. A target with an empty authority (`clone:///asr`)
 * resolves through the default registry: the most recent registration of the scheme that is
 * still open when the channel first resolves. Such a channel keeps that registry until its
 * registration closes, then falls back to the default of that moment (or fails with
 * UNAVAILABLE when none is left).
 * @throws ServiceError BAD_REQUEST for a scheme that is not a URI scheme or is one of grpc-js's own.
 */
export function registerCloneResolver(
  registry: ServiceRegistry,
  options: CloneResolverOptions = {},
): CloneResolverRegistration {
  const scheme = options.scheme ?? CLONE_SCHEME;
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme) || GRPC_SCHEMES.has(scheme)) {
    throw new ServiceError(
      ServiceErrorCode.BAD_REQUEST,
      `registerCloneResolver: scheme must be a lowercase URI scheme other than grpc-js's own (${[...GRPC_SCHEMES].join(', ')}), got ${JSON.stringify(scheme)}`,
      undefined,
      { retryable: false, metadata: { field: 'scheme' } },
    );
  }
  if (!schemes.has(scheme)) {
    grpc.experimental.registerResolver(scheme, CloneResolver);
    schemes.add(scheme);
  }
  const entry: Registration = {
    scheme,
    authority: `registry-${nextAuthority++}`,
    registry,
    open: true,
    resolvers: new Set(),
  };
  registrations.set(entry.authority, entry);
  return {
    scheme,
    authority: entry.authority,
    target: (serviceName) => {
      if (typeof serviceName !== 'string' || serviceName === '') {
        throw new ServiceError(
          ServiceErrorCode.BAD_REQUEST,
          `CloneResolverRegistration.target: serviceName must be a non-empty string, got ${JSON.stringify(serviceName)}`,
          undefined,
          { retryable: false, metadata: { field: 'serviceName' } },
        );
      }
      return `${scheme}://${entry.authority}/${encodeURIComponent(serviceName)}`;
    },
    close: () => {
      if (!entry.open) return;
      entry.open = false;
      registrations.delete(entry.authority);
      for (const resolver of [...entry.resolvers]) resolver.detached();
    },
  };
}

/** The most recent open registration of `scheme`: what an empty authority resolves through. */
function defaultRegistration(scheme: string): Registration | undefined {
  let found: Registration | undefined;
  for (const entry of registrations.values()) if (entry.scheme === scheme) found = entry;
  return found;
}

function serviceNameOf(target: GrpcUri): string {
  const path = target.path.replace(/^\/+/, '');
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** One channel's resolver: grpc-js makes one per channel, through the class registered per scheme. */
class CloneResolver implements grpc.experimental.Resolver {
  readonly #scheme: string;
  /** `''` when the target names none: the default registration. */
  readonly #authority: string;
  readonly #serviceName: string;
  readonly #listener: ResolverListener;
  /** The registration resolved through, kept while the channel is idle. */
  #registration: Registration | undefined;
  #unwatch: Unsubscribe | undefined;
  #latest: readonly ServiceInstance[] = [];
  #scheduled = false;

  constructor(target: GrpcUri, listener: ResolverListener) {
    this.#scheme = target.scheme ?? CLONE_SCHEME;
    this.#authority = target.authority ?? '';
    this.#serviceName = serviceNameOf(target);
    this.#listener = listener;
  }

  static getDefaultAuthority(target: GrpcUri): string {
    return serviceNameOf(target);
  }

  /**
   * Push-based: subscribing reports the current instances, and every change is reported as
   * it happens. grpc-js also asks again whenever a connection drops; answering each of those
   * with the same list would only make its balancer reconnect and ask again, in a loop, so
   * while subscribed there is nothing more to say.
   */
  updateResolution(): void {
    if (this.#unwatch !== undefined) return;
    const registration = this.#find();
    if (typeof registration === 'string') {
      process.nextTick(() => this.#fail(registration));
      return;
    }
    this.#registration = registration;
    registration.resolvers.add(this);
    this.#unwatch = registration.registry.watch(this.#serviceName, (instances) => {
      this.#latest = instances;
      this.#report();
    });
  }

  /** grpc-js destroys a resolver when its channel goes idle and may resume it later. */
  destroy(): void {
    this.#unsubscribe();
  }

  /** Its registration closed: fall back to the default, or fail. */
  detached(): void {
    const subscribed = this.#unwatch !== undefined;
    this.#unsubscribe();
    if (subscribed) this.updateResolution();
  }

  /** The open registration this channel resolves through, or why there is none. */
  #find(): Registration | string {
    if (this.#authority !== '') {
      const entry = registrations.get(this.#authority);
      if (entry !== undefined && entry.scheme === this.#scheme) return entry;
      return `no service registry is registered as '${this.#authority}' for '${this.#scheme}:' targets (closed, or never registered in this process)`;
    }
    if (this.#registration?.open) return this.#registration;
    return (
      defaultRegistration(this.#scheme) ??
      `no service registry is registered for the '${this.#scheme}:' resolver`
    );
  }

  #unsubscribe(): void {
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#registration?.resolvers.delete(this);
  }

  /** Results go out on a later tick: grpc-js does not expect them from inside its own calls. */
  #report(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    process.nextTick(() => {
      this.#scheduled = false;
      if (this.#unwatch === undefined) return;
      const endpoints = this.#latest
        .filter((i) => i.protocol === 'grpc')
        .map((i) => ({ addresses: [{ host: i.host, port: i.port }] }));
      if (endpoints.length === 0) {
        this.#fail(`no healthy gRPC instance of '${this.#serviceName}'`);
      } else {
        this.#listener(
          grpc.experimental.statusOrFromValue(endpoints),
          {},
          grpc.experimental.statusOrFromValue(ROUND_ROBIN),
          '',
        );
      }
    });
  }

  #fail(details: string): void {
    this.#listener(
      grpc.experimental.statusOrFromError({
        code: grpc.status.UNAVAILABLE,
        details,
        metadata: new grpc.Metadata(),
      }),
      {},
      null,
      details,
    );
  }
}
