import { clockOption, intAtLeast, nonEmptyString } from '@clone/internal';
import { type Clock, parseOptions, systemClock } from '@clone/service-errors';
import { z } from 'zod';
import { checkClaims } from './claims';
import { badRequest } from './errors';
import { JwtVerification } from './jwt-verification';
import {
  ALGORITHMS,
  type AsymmetricMaterial,
  importPublicKey,
  importSharedSecret,
  type SecretMaterial,
  type ServiceKey,
} from './key-set';
import { numericDate } from './payload';
import { readClock } from './user-callbacks';

/**
 * The end user a token speaks for: `sub`, `email`, `role`, `iat`, `exp`, as the user service
 * signs them. Frozen: one object is handed to every request that presents the same token.
 */
export interface UserClaims {
  /** The user id; required and non-empty. */
  readonly sub: string;
  readonly email?: string | undefined;
  readonly role?: string | undefined;
  /** Issued at, seconds since the epoch, when set. */
  readonly iat?: number | undefined;
  /** Expires at, seconds since the epoch; required. */
  readonly exp: number;
}

/**
 * Checks an end user's bearer token: its claims, or a `ServiceError` `UNAUTHORIZED` with
 * `metadata.reason` when it is forged, expired or malformed. An API gateway calls it on every
 * request of a route that needs a user.
 */
export interface UserTokenVerifier {
  verify(token: string): UserClaims;
}

// Key material is typed here but checked on import: parseOptions prints rejected values, and a
// rejected value here would be a secret.
const secretMaterial = z.custom<SecretMaterial>(() => true);
const publicKeyMaterial = z.custom<AsymmetricMaterial>(() => true);

const optionsSchema = z.strictObject({
  /** The HS256 secret the user service signs with (at least 32 bytes), or several during a rotation. */
  secret: z.union([z.array(secretMaterial).min(1), secretMaterial]).optional(),
  /** RS256/ES256 public keys (PEM, KeyObject or JWK) instead of a secret; several during a rotation. */
  publicKeys: z.array(publicKeyMaterial).min(1).optional(),
  /** Required in `iss`, when the user service sets one. */
  issuer: nonEmptyString().optional(),
  /** Required in `aud`, when the user service sets one. */
  audience: nonEmptyString().optional(),
  /**
   * Verified tokens remembered until their `exp` (default 10 000; 0 turns it off): a client
   * sends the same token on every request, and a signature check costs ~100x a map lookup.
   */
  cacheSize: intAtLeast(0, 1_000_000).default(10_000),
  /** Clock skew allowed on `exp`/`nbf`, in seconds. Default 5. */
  clockToleranceSec: intAtLeast(0, 300).default(5),
  clock: clockOption<Clock>().default(systemClock),
});

/** Options of {@link createUserTokenVerifier}: `secret` (HS256) or `publicKeys` (RS256/ES256), not both. */
export type UserTokenVerifierOptions = z.input<typeof optionsSchema>;

// Unknown claims are dropped: the claims carry only the ones below.
const userClaimsSchema = z.object({
  sub: z.string().min(1),
  email: z.string().optional(),
  role: z.string().optional(),
  iat: numericDate.optional(),
  exp: numericDate,
});

function toUserClaims(claims: unknown): UserClaims {
  const c = checkClaims(userClaimsSchema, claims, 'user');
  const user: { -readonly [K in keyof UserClaims]: UserClaims[K] } = { sub: c.sub, exp: c.exp };
  if (c.email !== undefined) user.email = c.email;
  if (c.role !== undefined) user.role = c.role;
  if (c.iat !== undefined) user.iat = c.iat;
  return Object.freeze(user);
}

function importUserKeys(o: z.output<typeof optionsSchema>): ServiceKey[] {
  if ((o.secret === undefined) === (o.publicKeys === undefined)) {
    throw badRequest('UserTokenVerifier: secret or publicKeys is required (exactly one)', {
      field: 'secret',
    });
  }
  if (o.publicKeys !== undefined) {
    return o.publicKeys.map((key, i) => importPublicKey(key, `publicKeys.${i}`));
  }
  if (!Array.isArray(o.secret)) return [importSharedSecret(o.secret, 'secret')];
  return o.secret.map((secret, i) => importSharedSecret(secret, `secret.${i}`));
}

/**
 * A verifier of end-user JWTs on the same path as service tokens: KeyObjects built once, each
 * key pinned to the algorithm of its type (HS256 for secrets, RS256/ES256 for public keys), so
 * `alg: none` and an RS256 public key used as an HMAC secret are refused; `exp` is required,
 * `sub` must be a non-empty string, `iss`/`aud` are checked when configured. Tokens carry no
 * `kid`: every key of the token's algorithm is tried (a rotation). Verified tokens are cached
 * until their `exp`. Refusals are `UNAUTHORIZED` with `metadata.reason` and never quote the token.
 *
 * ```ts
 * const users = createUserTokenVerifier({ secret: process.env.JWT_SECRET! });
 * const { sub, role } = users.verify(bearerToken);
 * ```
 */
export function createUserTokenVerifier(options: UserTokenVerifierOptions): UserTokenVerifier {
  const o = parseOptions(optionsSchema, options, 'UserTokenVerifier');
  const keys = importUserKeys(o);
  const jwt = new JwtVerification<UserClaims>(
    {
      kind: 'user',
      select: (alg) =>
        typeof alg === 'string' && (ALGORITHMS as readonly string[]).includes(alg)
          ? keys.filter((k) => k.algorithm === alg)
          : 'bad_algorithm',
      toPayload: toUserClaims,
    },
    {
      clockToleranceSeconds: o.clockToleranceSec,
      issuer: o.issuer,
      audience: o.audience,
      cacheSize: o.cacheSize,
    },
  );
  return {
    verify: (token: string): UserClaims => jwt.verify(token, readClock(o.clock)),
  };
}
