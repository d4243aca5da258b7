/**
 * Cheap structural reads of a compact JWS, done before any signature check: enough to pick the
 * key by `kid` and refuse what cannot be a token without handing it to a JWT library.
 */

/** Longer tokens are refused unread: a service token is a few hundred bytes. */
export const MAX_TOKEN_LENGTH = 8192;

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

function decodeJsonObject(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    // The parse error quotes the decoded text, which is part of the token: dropped on purpose.
    return undefined;
  }
}

/** The JOSE header of a compact JWS, or undefined when `token` is not one. */
export function readHeader(token: string): Record<string, unknown> | undefined {
  if (!COMPACT_JWS.test(token)) return undefined;
  return decodeJsonObject(token.slice(0, token.indexOf('.')));
}

/**
 * The `serviceName` a token claims, read WITHOUT verification: for failure reports only
 * ("which service sends bad tokens?"), never for a decision.
 */
export function claimedServiceName(token: unknown): string | undefined {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token))
    return undefined;
  const first = token.indexOf('.');
  const claims = decodeJsonObject(token.slice(first + 1, token.indexOf('.', first + 1)));
  const name = claims?.serviceName;
  return typeof name === 'string' && name.length > 0 && name.length <= 128 ? name : undefined;
}
