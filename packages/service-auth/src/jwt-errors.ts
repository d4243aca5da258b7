import type { ServiceError } from '@clone/service-errors';
import { type AuthFailureReason, type TokenKind, unauthorized } from './errors';

/**
 * Words for refusals decided before or by jsonwebtoken. Nothing here quotes the token: only
 * short header fields, clipped, and jsonwebtoken's own messages (which never hold the token).
 */

/** Why no key was selected for a token header, in words. */
export function describeSelection(reason: AuthFailureReason, header: Record<string, unknown>): string {
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

/** What the messages name as expected, from the verifier's options, and which token they are about. */
export interface ExpectedClaims {
  readonly issuer?: string | undefined;
  readonly audience?: string | readonly string[] | undefined;
  /** Default `service`. */
  readonly kind?: TokenKind | undefined;
}

/** Maps jsonwebtoken's errors to reasons; its error is kept as `cause` (it never holds the token). */
export function fromJwtError(error: unknown, expected: ExpectedClaims): ServiceError {
  const e = error as { name?: unknown; message?: unknown; expiredAt?: unknown; date?: unknown };
  const message = typeof e.message === 'string' ? e.message : '';
  const cause = { cause: error, kind: expected.kind };
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
    return unauthorized(
      'wrong_audience',
      `token audience is not ${JSON.stringify(expected.audience)}`,
      cause,
    );
  }
  if (message.startsWith('jwt issuer invalid')) {
    return unauthorized('wrong_issuer', `token issuer is not ${JSON.stringify(expected.issuer)}`, cause);
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
