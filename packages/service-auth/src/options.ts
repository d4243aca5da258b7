import type { JsonWebKey } from 'node:crypto';
import { intAtLeast, nonEmptyString, numberAtLeast } from '@clone/internal';
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

const isClock = (v: unknown): v is Clock =>
  typeof v === 'object' && v !== null && typeof (v as Clock).now === 'function';
const isLogger = (v: unknown): v is Logger =>
  typeof v === 'object' && v !== null && typeof (v as Logger).warn === 'function';

/** The schema of {@link ServiceAuthOptions}. */
export const serviceAuthOptionsSchema = z.strictObject({
  /** Shared HS256 secret (≥ 32 bytes); tokens signed with it carry no `kid`. */
  jwtSecret: secret.optional(),
  /** Lifetime of issued tokens. Default 3600. */
  tokenExpirySeconds: intAtLeast(1).default(3600),
  /** Put in `iss` when signing and required when verifying. */
  issuer: nonEmptyString().optional(),
  /** Required in `aud` when verifying (a token for another service is refused). */
  audience: z.union([nonEmptyString(), z.array(nonEmptyString()).min(1)]).optional(),
  /** Accepted clock skew for `exp`/`nbf`/`iat`. Default 5. */
  clockToleranceSeconds: intAtLeast(0).default(5),
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
  clock: z
    .custom<Clock>(isClock, { error: 'must be a Clock ({ now, setTimeout, clearTimeout })' })
    .optional(),
  logger: z.custom<Logger>(isLogger, { error: 'must be a Logger ({ debug, info, warn, error })' }).optional(),
});

/** Options of {@link ServiceAuthManager}; the seed passes `{ jwtSecret, tokenExpirySeconds }`. */
export type ServiceAuthOptions = z.input<typeof serviceAuthOptionsSchema>;

/** Options after parsing, defaults applied. */
export type ParsedServiceAuthOptions = z.output<typeof serviceAuthOptionsSchema>;
