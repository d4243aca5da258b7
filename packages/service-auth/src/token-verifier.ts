import { type Clock, isServiceError, ServiceErrorCode } from '@clone/service-errors';
import { unauthorized } from './errors';
import type { FailureReporter } from './failure-report';
import { JwtVerification } from './jwt-verification';
import type { KeySet, ServiceKey } from './key-set';
import type { ParsedServiceAuthOptions } from './options';
import { type ServiceTokenPayload, toServiceTokenPayload } from './payload';
import { claimedServiceName } from './token';
import { readClock } from './user-callbacks';

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
 * Verifies service JWTs against a key set through the shared {@link JwtVerification} path: the
 * key is picked by `kid` and pinned to its one algorithm, `exp` is required, `iss`/`aud` are
 * checked when configured, the claims are type-checked, `iat` may not lie in the future and
 * `exp − iat` may not exceed `maxTokenLifetimeSeconds`. Fully verified payloads are cached by
 * token until their `exp`.
 */
export class JwtTokenVerifier implements TokenVerifier {
  readonly #clock: Clock;
  readonly #report: FailureReporter;
  readonly #jwt: JwtVerification<ServiceTokenPayload>;

  constructor(keys: KeySet, options: ParsedServiceAuthOptions, clock: Clock, report: FailureReporter) {
    this.#clock = clock;
    this.#report = report;
    this.#jwt = new JwtVerification<ServiceTokenPayload>(
      {
        kind: 'service',
        select: (alg, kid) => keys.select(alg, kid),
        toPayload: (claims, key, nowSeconds) => {
          const payload = toServiceTokenPayload(claims, key.kid);
          checkLifetime(payload, nowSeconds, options);
          return payload;
        },
      },
      {
        clockToleranceSeconds: options.clockToleranceSeconds,
        issuer: options.issuer,
        audience: options.audience,
        cacheSize: options.verifiedCacheSize,
      },
    );
  }

  verify(token: string, context?: VerifyContext): ServiceTokenPayload {
    const nowMs = readClock(this.#clock);
    const audience = context?.audience;
    const hit = this.#jwt.cached(token, nowMs);
    if (hit !== undefined && (audience === undefined || audienceIncludes(hit.aud, audience))) return hit;
    try {
      const payload = hit ?? this.#jwt.verify(token, nowMs);
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
    return this.#jwt.purgeKey(key);
  }

  /** Drops every cached verification. */
  clear(): void {
    this.#jwt.clear();
  }
}

/**
 * `iat` is required (the claims check refuses a token without it), so the lifetime is
 * `exp − iat`; with `iat` at most now plus the tolerance, no accepted token is valid for longer
 * than `maxTokenLifetimeSeconds` plus the tolerance from now.
 */
function checkLifetime(
  payload: ServiceTokenPayload,
  nowSeconds: number,
  options: ParsedServiceAuthOptions,
): void {
  const ahead = payload.iat - nowSeconds;
  if (ahead > options.clockToleranceSeconds) {
    throw unauthorized(
      'issued_in_future',
      `token is issued ${ahead} s in the future, more than the clock tolerance (${options.clockToleranceSeconds} s)`,
      { metadata: { claim: 'iat' } },
    );
  }
  const lifetime = payload.exp - payload.iat;
  const max = options.maxTokenLifetimeSeconds;
  if (lifetime > max) {
    throw unauthorized(
      'lifetime_too_long',
      `token lifetime (exp − iat) is ${lifetime} s, more than maxTokenLifetimeSeconds (${max})`,
      { metadata: { claim: 'exp' } },
    );
  }
}
