import type { JsonWebKey } from 'node:crypto';
import {
  clockOption,
  durationSeconds,
  functionOption,
  intAtLeast,
  loggerOption,
  nonEmptyString,
  numberAtLeast,
} from '@clone/internal';
import type { Clock, Logger } from '@clone/service-errors';
import { z } from 'zod';
import { ALGORITHMS, type AsymmetricMaterial, type SecretMaterial } from './key-set';

// Key material is typed here but checked by key-set.ts: parseOptions prints rejected values,
// and a rejected value here would be a secret.
const secret = z.custom<SecretMaterial>(() => true);
const asymmetric = z.custom<AsymmetricMaterial>(() => true);

const keyInputSchema = z.strictObject({
  kid: nonEmptyString(),
  algorithm: z.enum(ALGORITHMS).optional(),
  secret: secret.optional(),
  privateKey: asymmetric.optional(),
  publicKey: asymmetric.optional(),
});

/** Default of `tokenExpirySeconds`: an hour. */
export const DEFAULT_TOKEN_EXPIRY_SECONDS = 3600;

/** Default of `maxTokenLifetimeSeconds`: a day. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 86_400;

/** The schema of {@link ServiceAuthOptions}. */
export const serviceAuthOptionsSchema = z.strictObject({
  /** Shared HS256 secret (≥ 32 bytes); tokens signed with it carry no `kid`. */
  jwtSecret: secret.optional(),
  /**
   * Lifetime of issued tokens; at most `maxTokenLifetimeSeconds`. Default 3600, or
   * `maxTokenLifetimeSeconds` when that is lower.
   */
  tokenExpirySeconds: durationSeconds().optional(),
  /**
   * The longest lifetime (`exp − iat`) a token may have: longer ones are neither issued nor
   * accepted, so a leaked token cannot stay valid for years. Default 86 400 (a day).
   */
  maxTokenLifetimeSeconds: durationSeconds().default(DEFAULT_MAX_TOKEN_LIFETIME_SECONDS),
  /** Put in `iss` when signing and required when verifying. */
  issuer: nonEmptyString().optional(),
  /** Required in `aud` when verifying (a token for another service is refused). */
  audience: z.union([nonEmptyString(), z.array(nonEmptyString()).min(1)]).optional(),
  /** Accepted clock skew for `exp`/`nbf`/`iat`. Default 5. */
  clockToleranceSeconds: durationSeconds(0).default(5),
  /** When given, the signing key must use this algorithm (guards against a config mix-up). */
  algorithm: z.enum(ALGORITHMS).optional(),
  /** Keys with ids, for rotation and asymmetric algorithms. */
  keys: z.array(keyInputSchema).optional(),
  /** Keys from a JWKS, e.g. another service's `getPublicJwks()`. */
  jwks: z.custom<{ keys: JsonWebKey[] }>(() => true).optional(),
  /** The kid that signs. Default: the `jwtSecret` key, else the first key that can sign. */
  activeKid: nonEmptyString().optional(),
  /** A cached client token is re-signed when this fraction of its lifetime is left. Default 0.2. */
  refreshBeforeExpiryRatio: numberAtLeast(0.01, 0.9).default(0.2),
  /** Verified tokens kept in the server-side cache; 0 disables it. Default 10,000. */
  verifiedCacheSize: intAtLeast(0).default(10_000),
  /** Source of `jti` values (a non-empty string per call). Default: a random UUID. */
  tokenIdSource: functionOption<() => string>().optional(),
  clock: clockOption<Clock>().optional(),
  logger: loggerOption<Logger>().optional(),
});

/** Options of {@link ServiceAuthManager}; the usual minimum is `{ jwtSecret, tokenExpirySeconds }`. */
export type ServiceAuthOptions = z.input<typeof serviceAuthOptionsSchema>;

/** Options after parsing, defaults applied. */
export type ParsedServiceAuthOptions = z.output<typeof serviceAuthOptionsSchema>;
