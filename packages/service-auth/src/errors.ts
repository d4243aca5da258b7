import { ServiceError, ServiceErrorCode } from '@clone/service-errors';

/**
 * Why a service or user token or a call was refused; the value of `metadata.reason` on every
 * ServiceError this package throws for a rejected token, and of `reason` in `authFailure` events.
 */
export type AuthFailureReason =
  /** No token: empty string, missing `authorization` metadata. */
  | 'missing_token'
  /** Not a compact JWS with a JSON header and payload, or an `authorization` value that is not `Bearer <jwt>`. */
  | 'malformed'
  /** `alg` is `none`, not one the key set uses, or not the algorithm of the key the `kid` names. */
  | 'bad_algorithm'
  /** The `kid` is not in the key set (e.g. removed by rotation), or no `kid` and no single key to try. */
  | 'unknown_kid'
  /** The signature does not match: wrong secret, tampered header or payload. */
  | 'bad_signature'
  /** Past `exp` (plus clock tolerance). */
  | 'expired'
  /** Before `nbf` (minus clock tolerance). */
  | 'not_before'
  /** `iat` is later than now plus the clock tolerance. */
  | 'issued_in_future'
  /** `exp − iat` is longer than `maxTokenLifetimeSeconds`. */
  | 'lifetime_too_long'
  /** `aud` is missing or not the audience this manager expects. */
  | 'wrong_audience'
  /** `iss` is missing or not the issuer this manager expects. */
  | 'wrong_issuer'
  /** Signed correctly but the claims are not a service token (no `exp`, `permissions` not strings, …). */
  | 'invalid_claims'
  /** Authenticated, but a required permission is missing (a `FORBIDDEN` error, not `UNAUTHORIZED`). */
  | 'missing_permission'
  /** The method is not listed and unlisted methods are denied (a `FORBIDDEN` error). */
  | 'method_not_allowed';

const SERVICE = 'service-auth';

/** Which kind of token a refusal is about: a service's token or an end user's. */
export type TokenKind = 'service' | 'user';

/**
 * A rejected token: `UNAUTHORIZED` with `metadata.reason`. The message says why in words and
 * never carries the token: tokens are bearer credentials and messages end up in logs.
 */
export function unauthorized(
  reason: AuthFailureReason,
  detail: string,
  extra: { cause?: unknown; metadata?: Record<string, unknown>; kind?: TokenKind | undefined } = {},
): ServiceError {
  return new ServiceError(
    ServiceErrorCode.UNAUTHORIZED,
    `${extra.kind === 'user' ? 'User' : 'Service'} token rejected (${reason}): ${detail}`,
    SERVICE,
    {
      retryable: false,
      cause: extra.cause,
      metadata: { reason, ...extra.metadata },
    },
  );
}

/** A caller lacking `permission` (the first missing one) for `method`: `FORBIDDEN`, `missing_permission`. */
export function missingPermission(serviceName: string, permission: string, method?: string): ServiceError {
  const where = method === undefined ? '' : ` required by ${method}`;
  return forbidden(
    'missing_permission',
    `Service '${serviceName}' lacks permission '${permission}'${where}`,
    {
      permission,
      serviceName,
      ...(method === undefined ? {} : { method }),
    },
  );
}

/** An authenticated caller without the right: `FORBIDDEN` with `metadata.reason`. */
export function forbidden(
  reason: 'missing_permission' | 'method_not_allowed',
  detail: string,
  metadata: Record<string, unknown> = {},
): ServiceError {
  return new ServiceError(ServiceErrorCode.FORBIDDEN, detail, SERVICE, {
    retryable: false,
    metadata: { reason, ...metadata },
  });
}

/** A misuse by the caller of this library (bad arguments, no signing key): `BAD_REQUEST`. */
export function badRequest(
  message: string,
  metadata?: Record<string, unknown>,
  cause?: unknown,
): ServiceError {
  return new ServiceError(ServiceErrorCode.BAD_REQUEST, message, SERVICE, {
    retryable: false,
    metadata,
    cause,
  });
}

/**
 * User code given to this package (a clock, an id source) threw or returned nonsense:
 * `INTERNAL_ERROR` with the original as `cause`, so the caller sees a ServiceError, never the
 * raw throw.
 */
export function callbackFailed(callback: string, problem: string, cause?: unknown): ServiceError {
  return new ServiceError(ServiceErrorCode.INTERNAL_ERROR, `service-auth: ${callback} ${problem}`, SERVICE, {
    retryable: false,
    cause,
    metadata: { callback },
  });
}
