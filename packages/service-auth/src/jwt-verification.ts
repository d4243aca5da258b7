import type { ServiceError } from '@clone/service-errors';
import jwt from 'jsonwebtoken';
import { type AuthFailureReason, type TokenKind, unauthorized } from './errors';
import { describeSelection, fromJwtError } from './jwt-errors';
import type { ServiceKey } from './key-set';
import { MAX_TOKEN_LENGTH, readHeader } from './token';
import { type ExpiringPayload, VerifiedTokenCache } from './verified-cache';

/** What one kind of token (service, user) brings to the shared verification path. */
export interface TokenRules<P extends ExpiringPayload> {
  /** Names the token in refusal messages and reasons. */
  readonly kind: TokenKind;
  /**
   * The keys a token with this header `alg` and `kid` may be signed with, tried in order (the
   * next one only after a signature mismatch), or why there is none. Each key is pinned to its
   * one algorithm, so `alg: none` and an RS256 public key used as an HMAC secret find nothing.
   */
  select(alg: unknown, kid: unknown): ServiceKey | readonly ServiceKey[] | AuthFailureReason;
  /**
   * The typed, frozen payload of claims whose signature, `exp`/`nbf`, `iss` and `aud` checked out,
   * after any checks of this kind of token; throws `UNAUTHORIZED` otherwise.
   */
  toPayload(claims: unknown, key: ServiceKey, nowSeconds: number): P;
}

/** The checks every token kind shares. */
export interface JwtCheckOptions {
  readonly clockToleranceSeconds: number;
  /** Required in `iss` when set. */
  readonly issuer?: string | undefined;
  /** Required in `aud` when set (one of them, when several). */
  readonly audience?: string | readonly string[] | undefined;
  /** Verified tokens remembered until their `exp`; 0 turns the cache off. */
  readonly cacheSize: number;
}

/**
 * The one verification path of this package: structural checks before any crypto (length,
 * compact form, no `crit`), the key picked from the header and pinned to its algorithm, the
 * signature, `exp`/`nbf` against the given time with the tolerance, `iss`/`aud`, then the
 * token kind's own claim checks. Fully verified payloads are cached by token until their `exp`;
 * {@link purgeKey} forgets those of a key that left the key set.
 */
export class JwtVerification<P extends ExpiringPayload> {
  readonly #rules: TokenRules<P>;
  readonly #expected: JwtCheckOptions & { kind: TokenKind };
  readonly #cache: VerifiedTokenCache<P>;
  readonly #jwtOptions: jwt.VerifyOptions;

  constructor(rules: TokenRules<P>, options: JwtCheckOptions) {
    this.#rules = rules;
    this.#expected = { ...options, kind: rules.kind };
    this.#cache = new VerifiedTokenCache<P>(options.cacheSize);
    // The algorithm list is set per key, to that key's one algorithm.
    this.#jwtOptions = {
      clockTolerance: options.clockToleranceSeconds,
      ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
      ...(options.audience === undefined
        ? {}
        : { audience: options.audience as string | [string, ...string[]] }),
    };
  }

  /** The payload cached for `token` and still alive at `nowMs`, if any. */
  cached(token: unknown, nowMs: number): P | undefined {
    return typeof token === 'string' ? this.#cache.get(token, nowMs) : undefined;
  }

  /** The verified payload of `token` at `nowMs`, from the cache when it is there. */
  verify(token: unknown, nowMs: number): P {
    return this.cached(token, nowMs) ?? this.#verifyUncached(token, nowMs);
  }

  /** Drops every cached verification made with `key`; returns how many. */
  purgeKey(key: ServiceKey): number {
    return this.#cache.purgeKey(key);
  }

  /** Drops every cached verification. */
  clear(): void {
    this.#cache.clear();
  }

  #refuse(reason: AuthFailureReason, detail: string): never {
    throw unauthorized(reason, detail, { kind: this.#rules.kind });
  }

  #verifyUncached(token: unknown, nowMs: number): P {
    if (typeof token !== 'string' || token === '') this.#refuse('missing_token', 'no token given');
    if (token.length > MAX_TOKEN_LENGTH) {
      this.#refuse('malformed', `token is longer than ${MAX_TOKEN_LENGTH} characters`);
    }
    const header = readHeader(token);
    if (header === undefined) {
      this.#refuse('malformed', 'not a compact JWT (base64url header.payload.signature with a JSON header)');
    }
    if (header.crit !== undefined) {
      this.#refuse('malformed', "critical header parameters ('crit') are not supported");
    }
    const selected = this.#rules.select(header.alg, header.kid);
    if (typeof selected === 'string') this.#refuse(selected, describeSelection(selected, header));
    const keys: readonly ServiceKey[] = Array.isArray(selected) ? selected : [selected as ServiceKey];
    if (keys.length === 0) this.#refuse('bad_algorithm', describeSelection('bad_algorithm', header));
    const nowSeconds = Math.floor(nowMs / 1000);
    let refusal: ServiceError | undefined;
    for (const key of keys) {
      let claims: unknown;
      try {
        claims = jwt.verify(token, key.verifyKey, {
          ...this.#jwtOptions,
          algorithms: [key.algorithm],
          clockTimestamp: nowSeconds,
        });
      } catch (error) {
        refusal = fromJwtError(error, this.#expected);
        // Only a signature mismatch is worth the next key: an expired or malformed token is final.
        if (refusal.metadata?.reason === 'bad_signature') continue;
        throw refusal;
      }
      const payload = this.#rules.toPayload(claims, key, nowSeconds);
      this.#cache.set(token, payload, key, nowMs);
      return payload;
    }
    throw refusal;
  }
}
