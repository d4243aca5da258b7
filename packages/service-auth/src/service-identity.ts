import type { ServiceTokenPayload } from './payload';

/**
 * Who is calling, as an HTTP handler sees it on `req.serviceIdentity` once the service-auth
 * middleware has let the request through: the caller's service `name`, its instance `id`, and
 * the `permissions` its token grants. Frozen, and one object per verified token.
 */
export interface ServiceIdentity {
  /** The calling service (`access-service`). */
  readonly name: string;
  /** The calling instance (`access-service-7f3a…`); the token's `sub`. */
  readonly id: string;
  /** What the caller may do; patterns such as `internal:*` included. */
  readonly permissions: readonly string[];
  /** The verified token claims, for `exp`, `aud`, `jti` and the like. */
  readonly token: ServiceTokenPayload;
}

/** A request that passed the service-auth middleware (Express, connect, node:http, Fastify). */
export interface ServiceAuthenticatedRequest {
  serviceIdentity: ServiceIdentity;
}

// Verified payloads are cached and shared, so the identity built from one is cached with it:
// a repeat caller costs a WeakMap lookup, not an allocation.
const identities = new WeakMap<ServiceTokenPayload, ServiceIdentity>();

/** The identity of a verified token payload. */
export function identityOf(payload: ServiceTokenPayload): ServiceIdentity {
  let identity = identities.get(payload);
  if (identity === undefined) {
    identity = Object.freeze({
      name: payload.serviceName,
      id: payload.serviceId,
      permissions: payload.permissions,
      token: payload,
    });
    identities.set(payload, identity);
  }
  return identity;
}
