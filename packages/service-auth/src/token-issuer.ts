import { durationSeconds, nonEmptyString } from '@clone/internal';
import { type Clock, type Emitter, parseOptions, type ServiceError } from '@clone/service-errors';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { badRequest } from './errors';
import type { ServiceAuthEvents } from './events';
import type { KeySet } from './key-set';
import { DEFAULT_TOKEN_EXPIRY_SECONDS, type ParsedServiceAuthOptions } from './options';
import { MAX_PERMISSIONS } from './payload';
import { nextTokenId, readClock } from './user-callbacks';

/** Per-token options of `ServiceAuthManager.generateServiceToken`. */
export interface GenerateTokenOptions {
  /** The service the token is for (`aud`); servers configured with an `audience` require it. */
  audience?: string | undefined;
  /** Overrides `tokenExpirySeconds` for this token; at most `maxTokenLifetimeSeconds`. */
  expiresInSeconds?: number | undefined;
}

/** What a token is issued for: who calls, with which permissions, to whom. */
export interface TokenRequest {
  serviceId: string;
  serviceName: string;
  permissions: readonly string[];
  /** The callee (`aud`): a provider per callee caches a token bound to that callee. */
  audience?: string | undefined;
  /** Overrides `tokenExpirySeconds` for these tokens; at most `maxTokenLifetimeSeconds`. */
  expiresInSeconds?: number | undefined;
}

/**
 * A cached token for one (caller, permissions, audience): `get()` signs only on the first call,
 * when the token has less than `refreshBeforeExpiryRatio` of its lifetime left, or after the
 * key set changed; otherwise it is a clock read and a compare. This is all a client
 * interceptor needs from an issuer.
 */
export interface ServiceTokenProvider {
  /** A valid token, signed now or taken from the cache. */
  get(): string;
  /** Forgets the cached token, so the next `get()` signs a new one. */
  invalidate(): void;
}

const tokenOptionsSchema = z.strictObject({
  audience: nonEmptyString().optional(),
  expiresInSeconds: durationSeconds().optional(),
});

const tokenRequestSchema = tokenOptionsSchema.extend({
  serviceId: nonEmptyString(),
  serviceName: nonEmptyString(),
  permissions: z.array(nonEmptyString(), { error: 'must be an array of strings' }).max(MAX_PERMISSIONS),
});

type ParsedTokenRequest = z.output<typeof tokenRequestSchema>;

/** Distinct (caller, permissions, audience) tokens `cached` keeps. */
const MAX_CACHED_TOKENS = 1024;

/**
 * Signs service tokens with the key set's active key and keeps the client-side token cache.
 * Every lifetime is checked against `maxTokenLifetimeSeconds` before anything is signed.
 */
export class TokenIssuer {
  readonly #keys: KeySet;
  readonly #options: ParsedServiceAuthOptions;
  readonly #clock: Clock;
  readonly #events: Emitter<ServiceAuthEvents>;
  /** `tokenExpirySeconds`, defaulted. */
  readonly #lifetime: number;
  readonly #providers = new Map<string, ServiceTokenProvider>();
  /** Bumped whenever the signing key changes or a key is removed: cached client tokens die. */
  #generation = 0;

  constructor(
    keys: KeySet,
    options: ParsedServiceAuthOptions,
    clock: Clock,
    events: Emitter<ServiceAuthEvents>,
  ) {
    this.#keys = keys;
    this.#options = options;
    this.#clock = clock;
    this.#events = events;
    const given = options.tokenExpirySeconds;
    if (given !== undefined) this.#checkLifetime(given, 'tokenExpirySeconds', 'ServiceAuthManager');
    this.#lifetime = given ?? Math.min(DEFAULT_TOKEN_EXPIRY_SECONDS, options.maxTokenLifetimeSeconds);
  }

  /** Whether the key set has a key that can sign. */
  get canSign(): boolean {
    return this.#keys.active?.signKey !== undefined;
  }

  /** Makes every cached client token stale (the signing key changed or a key was removed). */
  invalidateCached(): void {
    this.#generation++;
  }

  /** Forgets every cached client token. */
  clear(): void {
    this.#providers.clear();
    this.#generation++;
  }

  /** Signs a new token every time (see `ServiceAuthManager.generateServiceToken`). */
  generate(
    serviceId: string,
    serviceName: string,
    permissions: readonly string[],
    options: GenerateTokenOptions,
  ): string {
    // The options are checked on their own first, so they can neither carry an unknown key (an
    // own `__proto__` included: it stays a key and is refused by name) nor override the caller.
    const extra = parseOptions(tokenOptionsSchema, options ?? {}, 'generateServiceToken');
    const request = parseOptions(
      tokenRequestSchema,
      { ...extra, serviceId, serviceName, permissions },
      'generateServiceToken',
    );
    return this.#sign(request, this.#lifetimeOf(request, 'generateServiceToken')).token;
  }

  /** A token for (caller, permissions, audience) from the client cache. */
  cached(serviceId: string, serviceName: string, permissions: readonly string[], audience?: string): string {
    const cacheKey = Array.isArray(permissions)
      ? `${serviceId}\n${serviceName}\n${audience ?? ''}\n${[...permissions].sort().join('\n')}`
      : undefined;
    let provider = cacheKey === undefined ? undefined : this.#providers.get(cacheKey);
    if (provider === undefined) {
      provider = this.provider({ serviceId, serviceName, permissions, audience }, 'getServiceToken');
      if (this.#providers.size >= MAX_CACHED_TOKENS)
        this.#providers.delete(this.#providers.keys().next().value!);
      this.#providers.set(cacheKey!, provider);
    }
    return provider.get();
  }

  /** A {@link ServiceTokenProvider} for one caller and target; arguments are checked now. */
  provider(request: TokenRequest, context = 'createTokenProvider'): ServiceTokenProvider {
    const r = parseOptions(tokenRequestSchema, request, context);
    if (!this.canSign) throw cannotSign();
    const lifetime = this.#lifetimeOf(r, context);
    const refreshAfterSeconds = lifetime * (1 - this.#options.refreshBeforeExpiryRatio);
    let token = '';
    let refreshAtMs = 0;
    let generation = -1;
    return {
      get: () => {
        if (generation === this.#generation && readClock(this.#clock) < refreshAtMs) return token;
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

  #lifetimeOf(request: ParsedTokenRequest, context: string): number {
    if (request.expiresInSeconds === undefined) return this.#lifetime;
    this.#checkLifetime(request.expiresInSeconds, 'expiresInSeconds', context);
    return request.expiresInSeconds;
  }

  #checkLifetime(seconds: number, field: string, context: string): void {
    const max = this.#options.maxTokenLifetimeSeconds;
    if (seconds <= max) return;
    throw badRequest(
      `${context}: ${field} ${seconds} is longer than maxTokenLifetimeSeconds (${max}); such a token would be refused`,
      { field },
    );
  }

  #sign(request: ParsedTokenRequest, lifetimeSeconds: number): { token: string; iat: number } {
    const key = this.#keys.active;
    if (key?.signKey === undefined) throw cannotSign();
    const iat = Math.floor(readClock(this.#clock) / 1000);
    const exp = iat + lifetimeSeconds;
    const jti = nextTokenId(this.#options.tokenIdSource);
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
}

function cannotSign(): ServiceError {
  return badRequest(
    'ServiceAuthManager: cannot sign tokens: the key set holds public keys only (no active key)',
  );
}
