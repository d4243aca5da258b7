import { randomUUID } from 'node:crypto';
import { nonEmptyString } from '@clone/internal';
import {
  type Clock,
  Emitter,
  isServiceError,
  type Listener,
  type Logger,
  noopLogger,
  parseOptions,
  type ServiceError,
  systemClock,
  type Unsubscribe,
} from '@clone/service-errors';
import type { Interceptor, ServerInterceptor } from '@grpc/grpc-js';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { type ClientInterceptorOptions, createAuthClientInterceptor } from './client-interceptor';
import { type AuthFailureReason, badRequest, forbidden, unauthorized } from './errors';
import type { ServiceAuthEvents } from './events';
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
import { MAX_PERMISSIONS, type ServiceTokenPayload, toServiceTokenPayload } from './payload';
import { firstMissingPermission, hasAllPermissions, hasAnyPermission, hasPermission } from './permissions';
import { createAuthServerInterceptor, type ServerInterceptorOptions } from './server-interceptor';
import { claimedServiceName, MAX_TOKEN_LENGTH, readHeader } from './token';
import { VerifiedTokenCache } from './verified-cache';

/** Per-token options of {@link ServiceAuthManager.generateServiceToken}. */
export interface GenerateTokenOptions {
  /** The service the token is for (`aud`); servers configured with an `audience` require it. */
  audience?: string | undefined;
  /** Overrides `tokenExpirySeconds` for this token. */
  expiresInSeconds?: number | undefined;
}

/** What a token is issued for: who calls, with which permissions, to whom. */
export interface TokenRequest {
  serviceId: string;
  serviceName: string;
  permissions: readonly string[];
  audience?: string | undefined;
}

/**
 * A cached token for one (caller, permissions, audience): `get()` signs only on the first call,
 * when the token has less than `refreshBeforeExpiryRatio` of its lifetime left, or after the
 * key set changed; otherwise it is a clock read and a compare.
 */
export interface ServiceTokenProvider {
  /** A valid token, signed now or taken from the cache. */
  get(): string;
  /** Forgets the cached token, so the next `get()` signs a new one. */
  invalidate(): void;
}

const tokenRequestSchema = z.strictObject({
  serviceId: nonEmptyString(),
  serviceName: nonEmptyString(),
  permissions: z.array(nonEmptyString(), { error: 'must be an array of strings' }).max(MAX_PERMISSIONS),
  audience: nonEmptyString().optional(),
  expiresInSeconds: z.number().int().min(1).optional(),
});

/** Distinct (caller, permissions, audience) tokens `getServiceToken` keeps. */
const MAX_CACHED_TOKENS = 1024;

/**
 * Issues and checks service-to-service JWTs. Secrets and keys are turned into KeyObjects once;
 * verification is pinned to each key's algorithm, requires `exp`, checks `iss`/`aud` when
 * configured and validates the claims. Every rejection is a `ServiceError` `UNAUTHORIZED` whose
 * `metadata.reason` says why (see {@link AuthFailureReason}), never containing the token.
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
  readonly #verified: VerifiedTokenCache;
  readonly #events = new Emitter<ServiceAuthEvents>();
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #verifyOptions: jwt.VerifyOptions;
  readonly #providers = new Map<string, ServiceTokenProvider>();
  /** Bumped whenever the signing key changes or a key is removed: cached client tokens die. */
  #generation = 0;

  constructor(options: ServiceAuthOptions) {
    this.#options = parseOptions(serviceAuthOptionsSchema, options, 'ServiceAuthManager');
    const o = this.#options;
    this.#clock = o.clock ?? systemClock;
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
    this.#verified = new VerifiedTokenCache(o.verifiedCacheSize);
    // The algorithm list is set per token, to the one algorithm of the key its kid names.
    this.#verifyOptions = {
      clockTolerance: o.clockToleranceSeconds,
      ...(o.issuer === undefined ? {} : { issuer: o.issuer }),
      ...(o.audience === undefined ? {} : { audience: o.audience as string | [string, ...string[]] }),
    };
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
    return this.#keys.active?.signKey !== undefined;
  }

  /**
   * Signs a new token for `serviceId` with `permissions`: `sub`/`serviceId`, `serviceName`,
   * `permissions`, `iat`, `exp`, `jti`, plus `iss`/`aud` when configured. A standard JWT that
   * any JWT library verifies with the shared secret or the public key. Signs every time: for
   * per-call use take {@link getServiceToken} or {@link createTokenProvider}.
   */
  generateServiceToken(
    serviceId: string,
    serviceName: string,
    permissions: readonly string[],
    options: GenerateTokenOptions = {},
  ): string {
    const request = parseOptions(
      tokenRequestSchema,
      { serviceId, serviceName, permissions, ...definedOnly(options) },
      'generateServiceToken',
    );
    return this.#sign(request, request.expiresInSeconds ?? this.#options.tokenExpirySeconds).token;
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
    const audience = options.audience;
    const cacheKey = Array.isArray(permissions)
      ? `${serviceId}\n${serviceName}\n${audience ?? ''}\n${[...permissions].sort().join('\n')}`
      : undefined;
    let provider = cacheKey === undefined ? undefined : this.#providers.get(cacheKey);
    if (provider === undefined) {
      provider = this.createTokenProvider({ serviceId, serviceName, permissions, audience });
      if (this.#providers.size >= MAX_CACHED_TOKENS)
        this.#providers.delete(this.#providers.keys().next().value!);
      this.#providers.set(cacheKey!, provider);
    }
    return provider.get();
  }

  /** A {@link ServiceTokenProvider} for one caller and target; arguments are checked now. */
  createTokenProvider(request: TokenRequest): ServiceTokenProvider {
    const r = parseOptions(tokenRequestSchema, definedOnly(request), 'createTokenProvider');
    if (!this.canSign) throw this.#cannotSign();
    const lifetime = r.expiresInSeconds ?? this.#options.tokenExpirySeconds;
    const refreshAfterSeconds = lifetime * (1 - this.#options.refreshBeforeExpiryRatio);
    let token = '';
    let refreshAtMs = 0;
    let generation = -1;
    return {
      get: () => {
        if (generation === this.#generation && this.#clock.now() < refreshAtMs) return token;
        const issued = this.#sign(r, lifetime);
        token = issued.token;
        refreshAtMs = (issued.iat + refreshAfterSeconds) * 1000;
        generation = this.#generation;
        return token;
      },
      invalidate: () => {
        refreshAtMs = 0;
      },
    };
  }

  /**
   * Verifies `token` and returns its typed, frozen payload. Throws `ServiceError`
   * `UNAUTHORIZED` with `metadata.reason` for anything short of a valid service token.
   * `context.method` only labels the `authFailure` event.
   */
  verifyServiceToken(token: string, context: { method?: string } = {}): ServiceTokenPayload {
    const nowMs = this.#clock.now();
    if (typeof token === 'string') {
      const hit = this.#verified.get(token, nowMs);
      if (hit !== undefined) return hit;
    }
    try {
      return this.#verifyUncached(token, nowMs);
    } catch (error) {
      // Fail closed: anything unexpected from the JWT library is a refusal, not a crash.
      const e = isServiceError(error)
        ? error
        : unauthorized('malformed', 'token could not be verified', { cause: error });
      this.reportFailure(e, context.method, claimedServiceName(token));
      throw e;
    }
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
    const where = method === undefined ? '' : ` required by ${method}`;
    const error = forbidden(
      'missing_permission',
      `Service '${payload.serviceName}' lacks permission '${missing}'${where}`,
      { permission: missing, serviceName: payload.serviceName, ...(method === undefined ? {} : { method }) },
    );
    this.reportFailure(error, method, payload.serviceName);
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
    this.#generation++;
    this.#events.emit('keySetChanged', { change: 'activated', kid });
  }

  /**
   * Removes `kid` (rotation step 3, once tokens it signed have expired): its tokens are
   * refused from now on, cached verifications included.
   */
  removeKey(kid: string): void {
    const key = this.#keys.remove(kid);
    const purged = this.#verified.purgeKey(key);
    this.#generation++;
    this.#logger.info('service-auth key removed', { kid, purgedVerifiedTokens: purged });
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
    this.#verified.clear();
    this.#providers.clear();
    this.#generation++;
  }

  /**
   * A grpc-js client interceptor adding `authorization: Bearer <jwt>` to every call, from a
   * cached token (see {@link createTokenProvider}). A call answered `UNAUTHENTICATED` drops
   * the cached token so the next call carries a fresh one.
   */
  createClientInterceptor(options: ClientInterceptorOptions): Interceptor {
    const provider = this.createTokenProvider(options);
    return createAuthClientInterceptor(provider, (error) =>
      this.#logger.warn(error.message, { code: error.code }),
    );
  }

  /**
   * A grpc-js (≥ 1.10) server interceptor: verifies the bearer token, checks the method's
   * required permissions, answers `UNAUTHENTICATED` / `PERMISSION_DENIED` with a clear
   * `details`, lets public methods (health by default) through, and exposes the caller to the
   * handler through {@link getServiceIdentity}.
   */
  createServerInterceptor(options: ServerInterceptorOptions = {}): ServerInterceptor {
    return createAuthServerInterceptor(this, options);
  }

  /** Reports a refused token or call: `authFailure` event and a debug log line. */
  reportFailure(error: ServiceError, method: string | undefined, serviceName: string | undefined): void {
    const reason = (error.metadata?.reason ?? 'malformed') as AuthFailureReason;
    this.#logger.debug('service call refused', { reason, method, serviceName });
    if (!this.#events.hasListeners('authFailure')) return;
    this.#events.emit('authFailure', {
      reason,
      message: error.message,
      ...(serviceName === undefined ? {} : { serviceName }),
      ...(method === undefined ? {} : { method }),
    });
  }

  #verifyUncached(token: unknown, nowMs: number): ServiceTokenPayload {
    if (typeof token !== 'string' || token === '') throw unauthorized('missing_token', 'no token given');
    if (token.length > MAX_TOKEN_LENGTH) {
      throw unauthorized('malformed', `token is longer than ${MAX_TOKEN_LENGTH} characters`);
    }
    const header = readHeader(token);
    if (header === undefined) {
      throw unauthorized(
        'malformed',
        'not a compact JWT (base64url header.payload.signature with a JSON header)',
      );
    }
    if (header.crit !== undefined)
      throw unauthorized('malformed', "critical header parameters ('crit') are not supported");
    const key = this.#keys.select(header.alg, header.kid);
    if (typeof key === 'string') throw unauthorized(key, describeSelection(key, header));
    let claims: unknown;
    try {
      claims = jwt.verify(token, key.verifyKey, {
        ...this.#verifyOptions,
        algorithms: [key.algorithm],
        clockTimestamp: Math.floor(nowMs / 1000),
      });
    } catch (error) {
      throw fromJwtError(error, this.#options);
    }
    const payload = toServiceTokenPayload(claims, key.kid);
    this.#verified.set(token, payload, key, nowMs);
    return payload;
  }

  #sign(request: TokenRequest, lifetimeSeconds: number): { token: string; iat: number } {
    const key = this.#keys.active;
    if (key?.signKey === undefined) throw this.#cannotSign();
    const iat = Math.floor(this.#clock.now() / 1000);
    const exp = iat + lifetimeSeconds;
    const jti = randomUUID();
    const permissions = [...new Set(request.permissions)];
    const claims: Record<string, unknown> = {
      sub: request.serviceId,
      serviceId: request.serviceId,
      serviceName: request.serviceName,
      permissions,
      iat,
      exp,
      jti,
    };
    if (this.#options.issuer !== undefined) claims.iss = this.#options.issuer;
    // Without a per-token audience, tokens are for the audience this manager verifies, so a
    // manager configured with `audience` accepts its own tokens.
    const configured = this.#options.audience;
    const audience = request.audience ?? (Array.isArray(configured) ? configured[0] : configured);
    if (audience !== undefined) claims.aud = audience;
    const token = jwt.sign(
      claims,
      key.signKey,
      key.kid === undefined ? { algorithm: key.algorithm } : { algorithm: key.algorithm, keyid: key.kid },
    );
    if (this.#events.hasListeners('tokenIssued')) {
      this.#events.emit('tokenIssued', {
        serviceId: request.serviceId,
        serviceName: request.serviceName,
        permissions,
        audience,
        kid: key.kid,
        jti,
        expiresAt: new Date(exp * 1000),
      });
    }
    return { token, iat };
  }

  #cannotSign(): ServiceError {
    return badRequest(
      'ServiceAuthManager: cannot sign tokens: the key set holds public keys only (no active key)',
    );
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

function definedOnly<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = v;
  return out as T;
}

function describeSelection(reason: AuthFailureReason, header: Record<string, unknown>): string {
  const kid = typeof header.kid === 'string' ? header.kid.slice(0, 64) : undefined;
  const alg = typeof header.alg === 'string' ? header.alg.slice(0, 16) : undefined;
  switch (reason) {
    case 'bad_algorithm':
      return alg === undefined
        ? 'token header has no algorithm'
        : `algorithm '${alg}' is not accepted${kid === undefined ? '' : ` for key '${kid}'`}`;
    case 'unknown_kid':
      return kid === undefined
        ? 'token has no kid and no single key matches it'
        : `key '${kid}' is not in the key set`;
    default:
      return 'token header is invalid';
  }
}

/** Maps jsonwebtoken's errors to reasons; its error is kept as `cause` (it never holds the token). */
function fromJwtError(error: unknown, options: ParsedServiceAuthOptions): ServiceError {
  const e = error as { name?: unknown; message?: unknown; expiredAt?: unknown; date?: unknown };
  const message = typeof e.message === 'string' ? e.message : '';
  const cause = { cause: error };
  if (e.name === 'TokenExpiredError') {
    const at = e.expiredAt instanceof Date ? ` at ${e.expiredAt.toISOString()}` : '';
    return unauthorized('expired', `token expired${at}`, cause);
  }
  if (e.name === 'NotBeforeError') {
    const at = e.date instanceof Date ? ` before ${e.date.toISOString()}` : ' yet';
    return unauthorized('not_before', `token is not valid${at}`, cause);
  }
  if (message === 'invalid signature')
    return unauthorized('bad_signature', 'signature does not match', cause);
  if (message === 'jwt signature is required')
    return unauthorized('bad_signature', 'token is not signed', cause);
  if (message.startsWith('jwt audience invalid')) {
    return unauthorized('wrong_audience', `token audience is not ${JSON.stringify(options.audience)}`, cause);
  }
  if (message.startsWith('jwt issuer invalid')) {
    return unauthorized('wrong_issuer', `token issuer is not ${JSON.stringify(options.issuer)}`, cause);
  }
  if (message === 'invalid algorithm' || message.startsWith('secretOrPublicKey')) {
    return unauthorized('bad_algorithm', 'token algorithm does not match its key', cause);
  }
  if (
    /^invalid (exp|nbf|iat) value/.test(message) ||
    message.startsWith('jwt subject') ||
    message.startsWith('jwt id')
  ) {
    return unauthorized('invalid_claims', message, cause);
  }
  return unauthorized('malformed', 'token could not be decoded', cause);
}
