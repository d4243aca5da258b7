import { functionOption } from '@clone/internal';
import { parseOptions, ServiceError, toGrpcStatus } from '@clone/service-errors';
import {
  Metadata,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type ServerMethodDefinition,
  type status,
} from '@grpc/grpc-js';
import { z } from 'zod';
import { rateLimitError } from './decision';
import { rateLimitHeaders } from './http-headers';
import type { RateLimiter } from './rate-limiter';
import { callUser } from './user-callbacks';

const interceptorOptionsSchema = z.strictObject({
  /**
   * The key a call counts against, from its metadata and method path (a client id, the calling
   * service); default the peer's address without its port. Undefined: the call is not limited.
   */
  key: functionOption<(metadata: Metadata, method: string, peer: string) => string | undefined>().optional(),
  /** The limiter route whose tiers apply to a method (e.g. by service); default tiers when undefined. */
  route: functionOption<(method: string) => string | undefined>().optional(),
});

/** Options of {@link rateLimitServerInterceptor}. */
export type RateLimitInterceptorOptions = z.input<typeof interceptorOptionsSchema>;

/** The gRPC pushback key our clients (and grpc-js's retry) honour. */
const PUSHBACK = 'grpc-retry-pushback-ms';

/**
 * A grpc-js server interceptor over a {@link RateLimiter}: each call is checked when its metadata
 * arrives, before the handler sees anything. A refused call ends with RESOURCE_EXHAUSTED (or
 * UNAVAILABLE while the store is down and the limiter fails closed) and `grpc-retry-pushback-ms`
 * in its trailers, which `@clone/grpc-proto` clients wait out before retrying; the `ratelimit`
 * and `ratelimit-policy` trailers say which tier refused. A throwing `key`/`route` ends the call
 * with its ServiceError's status; nothing escapes into grpc-js.
 */
export function rateLimitServerInterceptor(
  limiter: RateLimiter,
  options: RateLimitInterceptorOptions = {},
): ServerInterceptor {
  const o = parseOptions(interceptorOptionsSchema, options, 'rateLimitServerInterceptor');
  const keyOf = o.key ?? ((_metadata: Metadata, _method: string, peer: string) => peerHost(peer));
  const routeOf = o.route;
  return (descriptor: ServerMethodDefinition<unknown, unknown>, call: ServerInterceptingCallInterface) => {
    const method = descriptor.path;
    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, mdNext) {
            let key: string | undefined;
            let checked: ReturnType<RateLimiter['check']>;
            try {
              key = callUser('rateLimitServerInterceptor: key', keyOf, metadata, method, call.getPeer());
              if (key === undefined) {
                mdNext(metadata);
                return;
              }
              const route =
                routeOf === undefined
                  ? undefined
                  : callUser('rateLimitServerInterceptor: route', routeOf, method);
              checked = limiter.check(key, { route });
            } catch (error) {
              const { code, details } = toGrpcStatus(error);
              call.sendStatus({ code, details, metadata: new Metadata() });
              return;
            }
            const limitedKey = key;
            checked.then(
              (d) => {
                if (d.allowed) {
                  mdNext(metadata);
                  return;
                }
                const error = rateLimitError(d, limitedKey);
                const trailers = new Metadata();
                trailers.set(PUSHBACK, String(error.retryAfterMs ?? 0));
                const headers = rateLimitHeaders(d);
                trailers.set('ratelimit-policy', headers['ratelimit-policy']);
                if (headers.ratelimit !== undefined) trailers.set('ratelimit', headers.ratelimit);
                call.sendStatus({
                  code: error.grpcStatus as status,
                  details: error.message,
                  metadata: trailers,
                });
              },
              (error: unknown) => {
                const { code, details } = toGrpcStatus(ServiceError.from(error));
                call.sendStatus({ code, details, metadata: new Metadata() });
              },
            );
          },
        });
      },
    });
  };
}

/** `ipv4:1.2.3.4:5678` / `ipv6:[::1]:5678` / `1.2.3.4:5678` → the address without the port. */
function peerHost(peer: string): string {
  const bare = peer.replace(/^ipv[46]:/, '');
  if (bare.startsWith('[')) return bare.slice(1, bare.indexOf(']'));
  const colon = bare.lastIndexOf(':');
  return colon > 0 && bare.indexOf(':') === colon ? bare.slice(0, colon) : bare;
}
