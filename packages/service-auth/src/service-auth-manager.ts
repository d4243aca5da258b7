import {
  type Clock,
  Emitter,
  type Listener,
  type Logger,
  noopLogger,
  parseOptions,
  systemClock,
  type Unsubscribe,
} from '@clone/service-errors';
import type { Interceptor, ServerInterceptor } from '@grpc/grpc-js';
import { type ClientInterceptorOptions, createAuthClientInterceptor } from './client-interceptor';
import { badRequest, missingPermission } from './errors';
import type { ServiceAuthEvents } from './events';
import { createFailureReporter, type FailureReporter } from './failure-report';
import {
  importJwks,
  importKey,
  importSharedSecret,
  KeySet,
  type PublicJwks,
  type ServiceKey,
  type ServiceKeyInput,
} from './key-set';
import { type ParsedServiceAuthOptions, type ServiceAuthOptions, serviceAuthOptionsSchema } from './options';
import type { ServiceTokenPayload } from './payload';
import { firstMissingPermission, hasAllPermissions, hasAnyPermission, hasPermission } from './permissions';
import { createAuthServerInterceptor, type ServerInterceptorOptions } from './server-interceptor';
import {
  type GenerateTokenOptions,
  type ServiceTokenProvider,
  TokenIssuer,
  type TokenRequest,
} from './token-issuer';
import { JwtTokenVerifier, type VerifyContext } from './token-verifier';
import { safeLog } from './user-callbacks';

/**
 * Issues and checks service-to-service JWTs: the facade over a {@link TokenIssuer} (signing and
 * the client token cache), a {@link JwtTokenVerifier} (checks and the verified-token cache), the
 * key set they share, and the gRPC interceptor factories. Every rejection is a `ServiceError`
 * `UNAUTHORIZED` whose `metadata.reason` says why (see `AuthFailureReason`), never containing
 * the token.
 *
 * Hot paths: client tokens are cached per (caller, permissions, audience) and re-signed with
 * ~20% of their lifetime left; verified tokens are cached until their `exp`, so a repeat
 * caller costs a map lookup.
 *
 * @example
 * const auth = new ServiceAuthManager({ jwtSecret: process.env.JWT_SECRET!, tokenExpirySeconds: 3600 });
 * const token = auth.generateServiceToken('ws-1', 'websocket-server', ['asr:read']);
 * auth.hasPermission(auth.verifyServiceToken(token), 'asr:read'); // true
 */
export class ServiceAuthManager {
  readonly #options: ParsedServiceAuthOptions;
  readonly #keys: KeySet;
  readonly #events = new Emitter<ServiceAuthEvents>();
  readonly #logger: Logger;
  readonly #report: FailureReporter;
  readonly #issuer: TokenIssuer;
  readonly #verifier: JwtTokenVerifier;

  constructor(options: ServiceAuthOptions) {
    this.#options = parseOptions(serviceAuthOptionsSchema, options, 'ServiceAuthManager');
    const o = this.#options;
    const clock: Clock = o.clock ?? systemClock;
    this.#logger = o.logger ?? noopLogger;
    const kidless = o.jwtSecret === undefined ? undefined : importSharedSecret(o.jwtSecret, 'jwtSecret');
    const keys = [
      ...(o.keys ?? []).map((k, i) => importKey(k as ServiceKeyInput, `keys.${i}`)),
      ...(o.jwks === undefined ? [] : importJwks(o.jwks, 'jwks')),
    ];
    if (kidless === undefined && keys.length === 0) {
      throw badRequest('ServiceAuthManager: jwtSecret is required (or give keys / jwks)', {
        field: 'jwtSecret',
      });
    }
    this.#keys = new KeySet(keys, kidless, o.activeKid);
    this.#checkAlgorithm(this.#keys.active);
    this.#report = createFailureReporter(this.#events, this.#logger);
    this.#issuer = new TokenIssuer(this.#keys, o, clock, this.#events);
    this.#verifier = new JwtTokenVerifier(this.#keys, o, clock, this.#report);
  }

  /** The event emitter: `tokenIssued`, `authFailure`, `keySetChanged`. */
  get events(): Emitter<ServiceAuthEvents> {
    return this.#events;
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof ServiceAuthEvents>(event: K, listener: Listener<ServiceAuthEvents[K]>): Unsubscribe {
    return this.#events.on(event, listener);
  }

  /** The kid of the signing key (undefined for the `jwtSecret` key or a verify-only manager). */
  get activeKid(): string | undefined {
    return this.#keys.active?.kid;
  }

  /** Whether this manager can sign (a verify-only manager holds public keys only). */
  get canSign(): boolean {
    return this.#issuer.canSign;
  }

  /**
   * Signs a new token for `serviceId` with `permissions`: `sub`/`serviceId`, `serviceName`,
   * `permissions`, `iat`, `exp`, `jti`, plus `iss`/`aud` when configured. A standard JWT that
   * any JWT library verifies with the shared secret or the public key. Signs every time: for
   * per-call use take {@link getServiceToken} or {@link createTokenProvider}. A lifetime over
   * `maxTokenLifetimeSeconds` is refused with `BAD_REQUEST` naming `expiresInSeconds`.
   */
  generateServiceToken(
    serviceId: string,
    serviceName: string,
    permissions: readonly string[],
    options: GenerateTokenOptions = {},
  ): string {
    return this.#issuer.generate(serviceId, serviceName, permissions, options);
  }

  /**
   * A token for (caller, permissions, audience) from the client cache: signed once, re-signed
   * when ~20% of its lifetime is left (`refreshBeforeExpiryRatio`) or after a key change.
   */
  getServiceToken(
    serviceId: string,
    serviceName: string,
    permissions: readonly string[],
    options: { audience?: string | undefined } = {},
  ): string {
    return this.#issuer.cached(serviceId, serviceName, permissions, options.audience);
  }

  /**
   * A {@link ServiceTokenProvider} for one caller and one callee (`audience`): each provider
   * caches its own token, so a client per callee carries a token bound to that callee.
   * Arguments are checked now.
   */
  createTokenProvider(request: TokenRequest): ServiceTokenProvider {
    return this.#issuer.provider(request);
  }

  /**
   * Verifies `token` and returns its typed, frozen payload. Throws `ServiceError`
   * `UNAUTHORIZED` with `metadata.reason` for anything short of a valid service token.
   * `context.method` only labels the `authFailure` event; `context.audience` additionally
   * requires that audience in `aud`.
   */
  verifyServiceToken(token: string, context?: VerifyContext): ServiceTokenPayload {
    return this.#verifier.verify(token, context);
  }

  /** Whether `payload` grants `permission`; `asr:*`, `*:read` and `*` grants are wildcards. */
  hasPermission(payload: ServiceTokenPayload, permission: string): boolean {
    return hasPermission(payload, permission);
  }

  /** Whether `payload` grants every one of `permissions`. */
  hasAllPermissions(payload: ServiceTokenPayload, permissions: readonly string[]): boolean {
    return hasAllPermissions(payload, permissions);
  }

  /** Whether `payload` grants at least one of `permissions`. */
  hasAnyPermission(payload: ServiceTokenPayload, permissions: readonly string[]): boolean {
    return hasAnyPermission(payload, permissions);
  }

  /** Throws `ServiceError` `FORBIDDEN` (`metadata.reason: 'missing_permission'`) unless all are granted. */
  requirePermissions(payload: ServiceTokenPayload, permissions: readonly string[], method?: string): void {
    const missing = firstMissingPermission(payload, permissions);
    if (missing === undefined) return;
    const error = missingPermission(payload.serviceName, missing, method);
    this.#report(error, method, payload.serviceName);
    throw error;
  }

  /** Adds a key to the set (rotation step 1: every verifier learns the new key). */
  addKey(key: ServiceKeyInput): void {
    const imported = importKey(key, 'key');
    this.#keys.add(imported);
    this.#events.emit('keySetChanged', { change: 'added', kid: imported.kid! });
  }

  /** Makes `kid` the signing key (rotation step 2); cached client tokens are re-signed. */
  setActiveKey(kid: string): void {
    const key = this.#keys.get(kid);
    if (key !== undefined) this.#checkAlgorithm(key);
    this.#keys.activate(kid);
    this.#issuer.invalidateCached();
    this.#events.emit('keySetChanged', { change: 'activated', kid });
  }

  /**
   * Removes `kid` (rotation step 3, once tokens it signed have expired): its tokens are
   * refused from now on, cached verifications included.
   */
  removeKey(kid: string): void {
    const key = this.#keys.remove(kid);
    const purged = this.#verifier.purgeKey(key);
    this.#issuer.invalidateCached();
    safeLog(this.#logger, 'info', 'service-auth key removed', { kid, purgedVerifiedTokens: purged });
    this.#events.emit('keySetChanged', { change: 'removed', kid });
  }

  /** The kids in the key set (the `jwtSecret` key has none). */
  getKeyIds(): string[] {
    return this.#keys.kids();
  }

  /** The public keys (RS256/ES256) as JWKS JSON, for verify-only services. Secrets never appear. */
  getPublicJwks(): PublicJwks {
    return this.#keys.publicJwks();
  }

  /** Drops both caches (client tokens and verified tokens). */
  clearCaches(): void {
    this.#verifier.clear();
    this.#issuer.clear();
  }

  /**
   * A grpc-js client interceptor adding `authorization: Bearer <jwt>` to every call, from a
   * cached token (see {@link createTokenProvider}); give `audience` (the callee's service name)
   * to bind the token to that callee. A call answered `UNAUTHENTICATED` drops the cached token
   * so the next call carries a fresh one.
   */
  createClientInterceptor(options: ClientInterceptorOptions): Interceptor {
    const provider = this.createTokenProvider(options);
    return createAuthClientInterceptor(provider, (error) =>
      safeLog(this.#logger, 'warn', error.message, { code: error.code }),
    );
  }

  /**
   * A grpc-js (≥ 1.10) server interceptor: verifies the bearer token (requiring `audience` in
   * `aud` when given), checks the method's required permissions, answers `UNAUTHENTICATED` /
   * `PERMISSION_DENIED` with a clear `details`, lets public methods (health by default) through,
   * and exposes the caller to the handler through `getServiceIdentity`.
   */
  createServerInterceptor(options: ServerInterceptorOptions = {}): ServerInterceptor {
    return createAuthServerInterceptor(this.#verifier, this.#report, options);
  }

  #checkAlgorithm(key: ServiceKey | undefined): void {
    const expected = this.#options.algorithm;
    if (expected === undefined || key === undefined || key.algorithm === expected) return;
    throw badRequest(
      `ServiceAuthManager: algorithm is ${expected} but the signing key${key.kid === undefined ? '' : ` '${key.kid}'`} is ${key.algorithm}`,
      { field: 'algorithm' },
    );
  }
}
