import { hkdfSync } from 'node:crypto';
import {
  clockOption,
  durationSeconds,
  intAtLeast,
  loggerOption,
  nonEmptyString,
  randomId,
} from '@clone/internal';
import {
  type Clock,
  type Logger,
  noopLogger,
  parseOptions,
  type ServiceError,
  systemClock,
} from '@clone/service-errors';
import { z } from 'zod';
import { bearerToken } from './bearer';
import { badRequest, missingPermission } from './errors';
import { createFailureReporter, type FailureReporter } from './failure-report';
import { importSecret } from './key-set';
import { MAX_PERMISSIONS } from './payload';
import { firstMissingPermission } from './permissions';
import { ServiceAuthManager } from './service-auth-manager';
import { identityOf, type ServiceIdentity } from './service-identity';
import type { ServiceTokenProvider } from './token-issuer';

// Secrets are typed here and checked by importSecret: parseOptions prints rejected values.
const secret = z.custom<string | Uint8Array | undefined>(() => true);

const serviceAuthSchema = z.strictObject({
  /** This service's name: the `serviceName` of its tokens and the audience it accepts. */
  serviceName: nonEmptyString(),
  /**
   * The deployment's JWT secret (≥ 32 bytes), shared by every service. Without `serviceSecret`
   * it signs and verifies service tokens itself (HS256), so tokens interoperate with any
   * `ServiceAuthManager({ jwtSecret })`, gRPC interceptors included.
   */
  jwtSecret: secret,
  /**
   * The deployment's service-to-service secret (≥ 32 bytes), when given: service tokens are
   * then signed with a key derived from both secrets (HKDF-SHA256), so a party holding only the
   * JWT secret (a user-token issuer, the gateway validating user tokens) can neither mint a
   * service token nor have a user token accepted as one.
   */
  serviceSecret: secret.optional(),
  /** This instance's id, the `sub` of its tokens. Default: `<serviceName>-<random uuid>`. */
  serviceId: nonEmptyString().optional(),
  /**
   * What this service's tokens grant. Default `['internal:*']`: every `internal:` permission,
   * which is what the seed's endpoints require. Narrow it per service in production.
   */
  permissions: z
    .array(nonEmptyString(), { error: 'must be an array of strings' })
    .max(MAX_PERMISSIONS)
    .optional(),
  /** Lifetime of issued tokens. Default 3600; a cached token is re-signed with 20% left. */
  tokenExpirySeconds: durationSeconds().optional(),
  /** Accepted clock skew on `exp`/`nbf`/`iat`. Default 5. */
  clockToleranceSeconds: durationSeconds(0).optional(),
  /** Distinct target services whose token providers are kept. Default 256. */
  maxTargets: intAtLeast(1).default(256),
  clock: clockOption<Clock>().optional(),
  logger: loggerOption<Logger>().optional(),
});

/** Options of {@link createServiceAuth}. */
export type CreateServiceAuthOptions = z.input<typeof serviceAuthSchema>;

const HKDF_INFO = '@clone/service-auth service token key';

/**
 * The one HS256 key service tokens are signed and verified with: the JWT secret itself, or
 * HKDF-SHA256 of the service secret salted with the JWT secret. Both secrets are checked
 * (≥ 32 bytes) under their own field names, and never echoed.
 */
function signingSecret(jwtSecret: unknown, serviceSecret: unknown): Buffer | string | Uint8Array {
  if (jwtSecret === undefined || jwtSecret === '') {
    throw badRequest('createServiceAuth: jwtSecret is required (e.g. process.env.JWT_SECRET)', {
      field: 'jwtSecret',
    });
  }
  const jwtKey = importSecret(jwtSecret, 'jwtSecret');
  if (serviceSecret === undefined) return jwtKey.export();
  const serviceKey = importSecret(serviceSecret, 'serviceSecret');
  return Buffer.from(hkdfSync('sha256', serviceKey.export(), jwtKey.export(), HKDF_INFO, 32));
}

/**
 * One service's side of service-to-service auth over HTTP: it signs the tokens it sends
 * (`createAuthHeader`) and checks the ones it receives (`verify`, used by the middleware).
 * Built on a {@link ServiceAuthManager}, shared through `manager` with gRPC interceptors, so
 * one service carries one token cache whatever the transport.
 */
export class ServiceAuth {
  /** This service's name; the audience its endpoints require. */
  readonly serviceName: string;
  /** This instance's id (`sub` of its tokens). */
  readonly serviceId: string;
  /** What this service's tokens grant. */
  readonly permissions: readonly string[];
  /** The manager underneath: keys, caches, events and the gRPC interceptors. */
  readonly manager: ServiceAuthManager;
  /** The clock tokens are checked against; also what refusals are timestamped with. */
  readonly clock: Clock;
  readonly #maxTargets: number;
  readonly #report: FailureReporter;
  readonly #headers = new Map<
    string,
    { provider: ServiceTokenProvider; token: string; header: { Authorization: string } }
  >();

  constructor(options: CreateServiceAuthOptions) {
    const o = parseOptions(serviceAuthSchema, options, 'createServiceAuth');
    this.serviceName = o.serviceName;
    this.serviceId = o.serviceId ?? `${o.serviceName}-${randomId()}`;
    this.permissions = Object.freeze([...(o.permissions ?? ['internal:*'])]);
    this.#maxTargets = o.maxTargets;
    this.clock = o.clock ?? systemClock;
    this.manager = new ServiceAuthManager({
      jwtSecret: signingSecret(o.jwtSecret, o.serviceSecret),
      ...(o.tokenExpirySeconds === undefined ? {} : { tokenExpirySeconds: o.tokenExpirySeconds }),
      ...(o.clockToleranceSeconds === undefined ? {} : { clockToleranceSeconds: o.clockToleranceSeconds }),
      ...(o.clock === undefined ? {} : { clock: o.clock }),
      ...(o.logger === undefined ? {} : { logger: o.logger }),
    });
    this.#report = createFailureReporter(this.manager.events, o.logger ?? noopLogger);
  }

  /**
   * `{ Authorization: 'Bearer <jwt>' }` for a call to `targetService`: a token bound to that
   * service (`aud`), signed once and reused until ~20% of its lifetime is left. Synchronous
   * (awaiting it works too); the same object is returned while the token is unchanged, so
   * treat it as read-only.
   * @throws ServiceError BAD_REQUEST naming `targetService` when it is not a non-empty string.
   */
  createAuthHeader(targetService: string): { Authorization: string } {
    let entry = this.#headers.get(targetService);
    if (entry === undefined) {
      if (typeof targetService !== 'string' || targetService === '') {
        throw badRequest('createAuthHeader: targetService must be a non-empty string', {
          field: 'targetService',
        });
      }
      const provider = this.manager.createTokenProvider({
        serviceId: this.serviceId,
        serviceName: this.serviceName,
        permissions: this.permissions,
        audience: targetService,
      });
      if (this.#headers.size >= this.#maxTargets) this.#headers.delete(this.#headers.keys().next().value!);
      entry = { provider, token: '', header: { Authorization: '' } };
      this.#headers.set(targetService, entry);
    }
    const token = entry.provider.get();
    if (token !== entry.token) {
      entry.token = token;
      entry.header = Object.freeze({ Authorization: `Bearer ${token}` });
    }
    return entry.header;
  }

  /**
   * Forgets the cached token for `targetService` (all of them without an argument), e.g. after
   * the callee answered 401, so the next header carries a freshly signed token.
   */
  invalidateToken(targetService?: string): void {
    if (targetService === undefined) for (const entry of this.#headers.values()) entry.provider.invalidate();
    else this.#headers.get(targetService)?.provider.invalidate();
  }

  /**
   * Verifies a token sent to this service (its `aud` must name `serviceName`) and returns the
   * caller. Throws `ServiceError` `UNAUTHORIZED` with `metadata.reason` otherwise.
   */
  verify(token: string): ServiceIdentity {
    return identityOf(this.manager.verifyServiceToken(token, { audience: this.serviceName }));
  }

  /**
   * The whole check of an incoming request, given its `Authorization` header value: a bearer
   * token sent to this service, granting every one of `permissions`. `label` (e.g.
   * `GET /internal/data`) names the request in `authFailure` events and log lines. Throws
   * `UNAUTHORIZED` (no, malformed or invalid token) or `FORBIDDEN` (`missing_permission`), each
   * reported once as an `authFailure`.
   */
  authenticate(
    authorization: string | readonly string[] | undefined,
    permissions: readonly string[] = [],
    label?: string,
  ): ServiceIdentity {
    let token: string;
    try {
      token = bearerToken(authorization, 'Authorization header', 'Authorization: Bearer <jwt>');
    } catch (error) {
      this.#report(error as ServiceError, label, undefined);
      throw error;
    }
    const identity = identityOf(
      this.manager.verifyServiceToken(token, { audience: this.serviceName, method: label }),
    );
    if (permissions.length > 0) {
      const missing = firstMissingPermission(identity, permissions);
      if (missing !== undefined) {
        const error = missingPermission(identity.name, missing, label);
        this.#report(error, label, identity.name);
        throw error;
      }
    }
    return identity;
  }
}

/**
 * Service auth for one service, as the design document sets it up:
 *
 * ```ts
 * const serviceAuth = createServiceAuth({
 *   serviceName: 'auth-service',
 *   serviceSecret: process.env.SERVICE_SECRET,
 *   jwtSecret: process.env.JWT_SECRET,
 *   logger,
 * });
 * const authHeader = await serviceAuth.createAuthHeader('access-service');
 * ```
 *
 * @throws ServiceError BAD_REQUEST naming the field (`jwtSecret` missing or shorter than 32
 *   bytes, an unknown option, …).
 */
export function createServiceAuth(options: CreateServiceAuthOptions): ServiceAuth {
  return new ServiceAuth(options);
}
