import { z } from 'zod';
import { checkClaims } from './claims';
import { unauthorized } from './errors';

/**
 * A verified service token's claims. The object and its `permissions` are frozen: verified
 * payloads are cached and shared between calls, so a handler must not be able to widen the
 * next caller's rights by mutating one.
 */
export interface ServiceTokenPayload {
  /** The calling instance (`websocket-server-1`); also the JWT `sub`. */
  readonly serviceId: string;
  /** The calling service (`websocket-server`). */
  readonly serviceName: string;
  /** What the caller may do, e.g. `asr:read`; patterns such as `asr:*` are allowed. */
  readonly permissions: readonly string[];
  /** Issued at, seconds since the epoch; required, and the start of the token's bounded lifetime. */
  readonly iat: number;
  /** Expires at, seconds since the epoch. */
  readonly exp: number;
  /** The JWT `sub` (equals `serviceId`). */
  readonly sub: string;
  /** Unique token id; present on tokens this package signs. */
  readonly jti?: string;
  /** Issuer, when the signer configured one. */
  readonly iss?: string;
  /** Audience, when the signer set one. */
  readonly aud?: string | readonly string[];
  /** Not before, seconds since the epoch, when set. */
  readonly nbf?: number;
  /** The key id the token was signed with, when it carried one. */
  readonly kid?: string;
}

/** Permissions lists longer than this are refused: a token is a credential, not a database. */
export const MAX_PERMISSIONS = 1024;

/** A JWT NumericDate: seconds since the epoch. */
export const numericDate = z.number().finite();

// Unknown claims are dropped: the payload carries only the claims below.
const claimsSchema = z.object({
  serviceId: z.string().min(1),
  serviceName: z.string().min(1),
  permissions: z.array(z.string().min(1)).max(MAX_PERMISSIONS),
  iat: numericDate,
  exp: numericDate,
  sub: z.string().min(1).optional(),
  jti: z.string().min(1).optional(),
  iss: z.string().optional(),
  aud: z.union([z.string(), z.array(z.string())]).optional(),
  nbf: numericDate.optional(),
});

/**
 * Checks claims that passed signature verification and returns the typed, frozen payload.
 * Throws `UNAUTHORIZED` `invalid_claims` naming the first bad claim (never its value: the
 * claim came from the token).
 */
export function toServiceTokenPayload(claims: unknown, kid: string | undefined): ServiceTokenPayload {
  const c = checkClaims(claimsSchema, claims, 'service');
  const sub = c.sub ?? c.serviceId;
  if (sub !== c.serviceId) {
    throw unauthorized('invalid_claims', "claim 'sub' does not match 'serviceId'", {
      metadata: { claim: 'sub' },
    });
  }
  const payload: {
    -readonly [K in keyof ServiceTokenPayload]: ServiceTokenPayload[K];
  } = {
    serviceId: c.serviceId,
    serviceName: c.serviceName,
    permissions: Object.freeze([...c.permissions]),
    iat: c.iat,
    exp: c.exp,
    sub,
  };
  if (c.jti !== undefined) payload.jti = c.jti;
  if (c.iss !== undefined) payload.iss = c.iss;
  if (c.aud !== undefined) payload.aud = typeof c.aud === 'string' ? c.aud : Object.freeze([...c.aud]);
  if (c.nbf !== undefined) payload.nbf = c.nbf;
  if (kid !== undefined) payload.kid = kid;
  return Object.freeze(payload);
}
