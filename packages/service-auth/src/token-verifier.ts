import { type Clock, isServiceError, ServiceErrorCode } from '@clone/service-errors';
import jwt from 'jsonwebtoken';
import { unauthorized } from './errors';
import type { FailureReporter } from './failure-report';
import { describeSelection, fromJwtError } from './jwt-errors';
import type { KeySet, ServiceKey } from './key-set';
import type { ParsedServiceAuthOptions } from './options';
import { type ServiceTokenPayload, toServiceTokenPayload } from './payload';
import { claimedServiceName, MAX_TOKEN_LENGTH, readHeader } from './token';
import { readClock } from './user-callbacks';
import { VerifiedTokenCache } from './verified-cache';

/** Per-call context of a verification. */
export interface VerifyContext {
  /** The full gRPC method path; labels the `authFailure` event. */
  method?: string | undefined;
  /**
   * An audience this call requires in `aud` (a server's own service name), on top of any
   * `audience` the manager is configured with: a token without it is refused (`wrong_audience`).
   */
  audience?: string | undefined;
}

/**
 * What a server needs from an auth manager: the verified, frozen payload of a bearer token, or
 * a `ServiceError` (`UNAUTHORIZED` with `metadata.reason`) already reported as an auth failure.
 */
export interface TokenVerifier {
  verify(token: string, context?: VerifyContext): ServiceTokenPayload;
}

/** Whether the `aud` claim names `audience`. */
function audienceIncludes(aud: ServiceTokenPayload['aud'], audience: string): boolean {
  return typeof aud === 'string' ? aud === audience : aud?.includes(audience) === true;
}

/**
 * Verifies service JWTs against a key set: the key is picked by `kid` and pinned to its one
 * algorithm, `exp` is required, `iss`/`aud` are checked when configured, the claims are
 * type-checked, `iat` may not lie in the future and `exp − iat` may not exceed
 * `maxTokenLifetimeSeconds`. Fully verified payloads are cached by token until their `exp`.
 */
export class JwtTokenVerifier implements TokenVerifier {
  readonly #keys: KeySet;
  readonly #options: ParsedServiceAuthOptions;
  readonly #clock: Clock;
  readonly #report: FailureReporter;
  readonly #cache: VerifiedTokenCache;
  readonly #jwtOptions: jwt.VerifyOptions;

  constructor(keys: KeySet, options: ParsedServiceAuthOptions, clock: Clock, report: FailureReporter) {
    this.#keys = keys;
    this.#options = options;
    this.#clock = clock;
    this.#report = report;
    this.#cache = new VerifiedTokenCache(options.verifiedCacheSize);
    // The algorithm list is set per token, to the one algorithm of the key its kid names.
    this.#jwtOptions = {
      clockTolerance: options.clockToleranceSeconds,
      ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
      ...(options.audience === undefined
        ? {}
        : { audience: options.audience as string | [string, ...string[]] }),
    };
  }

  verify(token: string, context?: VerifyContext): ServiceTokenPayload {
    const nowMs = readClock(this.#clock);
    const audience = context?.audience;
    const hit = typeof token === 'string' ? this.#cache.get(token, nowMs) : undefined;
    if (hit !== undefined && (audience === undefined || audienceIncludes(hit.aud, audience))) return hit;
    try {
      const payload = hit ?? this.#verifyUncached(token, nowMs);
      if (audience !== undefined && !audienceIncludes(payload.aud, audience)) {
        throw unauthorized('wrong_audience', `token audience is not ${JSON.stringify(audience)}`);
      }
      return payload;
    } catch (error) {
      // Fail closed: anything unexpected from the JWT library is a refusal, not a crash.
      const e = isServiceError(error)
        ? error
        : unauthorized('malformed', 'token could not be verified', { cause: error });
      if (e.code === ServiceErrorCode.UNAUTHORIZED)
        this.#report(e, context?.method, claimedServiceName(token));
      throw e;
    }
  }

  /** Drops every cached verification made with `key` (it left the key set); returns how many. */
  purgeKey(key: ServiceKey): number {
    return this.#cache.purgeKey(key);
  }

  /** Drops every cached verification. */
  clear(): void {
    this.#cache.clear();
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
    const nowSeconds = Math.floor(nowMs / 1000);
    let claims: unknown;
    try {
      claims = jwt.verify(token, key.verifyKey, {
        ...this.#jwtOptions,
        algorithms: [key.algorithm],
        clockTimestamp: nowSeconds,
      });
    } catch (error) {
      throw fromJwtError(error, this.#options);
    }
    const payload = toServiceTokenPayload(claims, key.kid);
    this.#checkLifetime(payload, nowSeconds);
    this.#cache.set(token, payload, key, nowMs);
    return payload;
  }

  /**
   * `iat` is required (the claims check refuses a token without it), so the lifetime is
   * `exp − iat`; with `iat` at most now plus the tolerance, no accepted token is valid for longer
   * than `maxTokenLifetimeSeconds` plus the tolerance from now.
   */
  #checkLifetime(payload: ServiceTokenPayload, nowSeconds: number): void {
    const ahead = payload.iat - nowSeconds;
    if (ahead > this.#options.clockToleranceSeconds) {
      throw unauthorized(
        'issued_in_future',
        `token is issued ${ahead} s in the future, more than the clock tolerance (${this.#options.clockToleranceSeconds} s)`,
        { metadata: { claim: 'iat' } },
      );
    }
    const lifetime = payload.exp - payload.iat;
    const max = this.#options.maxTokenLifetimeSeconds;
    if (lifetime > max) {
      throw unauthorized(
        'lifetime_too_long',
        `token lifetime (exp − iat) is ${lifetime} s, more than maxTokenLifetimeSeconds (${max})`,
        { metadata: { claim: 'exp' } },
      );
    }
  }
}
