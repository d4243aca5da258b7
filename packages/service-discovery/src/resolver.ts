import type { Unsubscribe } from '@clone/service-errors';
import * as grpc from '@grpc/grpc-js';
import type { ServiceInstance } from './instance';
import type { ServiceRegistry } from './registry';

/** The default scheme: `new Client('clone:///asr', credentials)`. */
export const CLONE_SCHEME = 'clone';

/** Options of {@link registerCloneResolver}. */
export interface CloneResolverOptions {
  /** The URI scheme to answer for. Default `clone`. */
  scheme?: string;
}

type GrpcUri = grpc.experimental.GrpcUri;
type ResolverListener = grpc.experimental.ResolverListener;
type ResolverConstructor = Parameters<typeof grpc.experimental.registerResolver>[1];
type ServiceConfig =
  NonNullable<Parameters<ResolverListener>[2]> extends grpc.experimental.StatusOr<infer C> ? C : never;

/** grpc-js keeps resolvers per scheme for the whole process; so do we, one registry each. */
const registries = new Map<string, ServiceRegistry>();

const ROUND_ROBIN = {
  loadBalancingConfig: [{ round_robin: {} }],
  methodConfig: [],
} as ServiceConfig;

/**
 * Lets grpc-js channels find servers through `registry`: `new Client('clone:///asr', creds)`
 * connects to the healthy gRPC instances of `asr`, balances calls over them with grpc-js's
 * `round_robin`, and follows instances as they come, go and change health.
 *
 * grpc-js resolvers are process-wide, so calling this again for the same scheme points it at
 * another registry (channels made before keep theirs). Returns a function that detaches the
 * registry: channels using the scheme then fail with UNAVAILABLE until one is registered again.
 */
export function registerCloneResolver(
  registry: ServiceRegistry,
  options: CloneResolverOptions = {},
): () => void {
  const scheme = options.scheme ?? CLONE_SCHEME;
  if (!registries.has(scheme)) grpc.experimental.registerResolver(scheme, resolverFor(scheme));
  registries.set(scheme, registry);
  return () => {
    if (registries.get(scheme) === registry) registries.delete(scheme);
  };
}

function resolverFor(scheme: string): ResolverConstructor {
  return class CloneResolver implements grpc.experimental.Resolver {
    readonly #serviceName: string;
    readonly #listener: ResolverListener;
    readonly #registry: ServiceRegistry | undefined;
    #unwatch: Unsubscribe | undefined;
    #latest: readonly ServiceInstance[] = [];
    #scheduled = false;

    constructor(target: GrpcUri, listener: ResolverListener) {
      this.#serviceName = target.path.replace(/^\/+/, '');
      this.#listener = listener;
      // A registry is bound at channel creation: a later re-registration does not move channels.
      this.#registry = registries.get(scheme);
    }

    static getDefaultAuthority(target: GrpcUri): string {
      return target.path.replace(/^\/+/, '');
    }

    /**
     * Push-based: subscribing reports the current instances, and every change is reported as
     * it happens. grpc-js also asks again whenever a connection drops; answering each of those
     * with the same list would only make its balancer reconnect and ask again, in a loop, so
     * while subscribed there is nothing more to say.
     */
    updateResolution(): void {
      if (this.#unwatch !== undefined) return;
      if (this.#registry === undefined) {
        process.nextTick(() => this.#fail(`no service registry is attached to the '${scheme}:' resolver`));
        return;
      }
      this.#unwatch = this.#registry.watch(this.#serviceName, (instances) => {
        this.#latest = instances;
        this.#report();
      });
    }

    /** grpc-js destroys a resolver when its channel goes idle and may resume it later. */
    destroy(): void {
      this.#unwatch?.();
      this.#unwatch = undefined;
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
        if (registries.get(scheme) !== this.#registry) {
          this.#fail(`the service registry was detached from the '${scheme}:' resolver`);
        } else if (endpoints.length === 0) {
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
  };
}
