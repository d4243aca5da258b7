import { unauthorized } from './errors';

/**
 * The token of a `Bearer <jwt>` credential (the scheme is case-insensitive, RFC 7235), as the
 * HTTP middleware and the gRPC server interceptor both read it. `value` is what the request
 * carried: undefined when nothing, a string for one value, anything else (several values, a
 * binary one) is refused. Throws `UNAUTHORIZED` `missing_token` or `malformed`; `source` names
 * the header or metadata in the message and `expected` shows the right form.
 */
export function bearerToken(value: unknown, source: string, expected: string): string {
  if (value === undefined) throw unauthorized('missing_token', `no ${source}; expected '${expected}'`);
  if (typeof value !== 'string') throw unauthorized('malformed', `expected exactly one text ${source} value`);
  if (!(value.startsWith('Bearer ') || /^bearer /i.test(value))) {
    throw unauthorized('malformed', `${source} is not 'Bearer <jwt>'`);
  }
  return value.slice(7);
}
