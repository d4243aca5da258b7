import { UNSAFE_KEYS } from '@clone/internal';
import type { z } from 'zod';
import { type TokenKind, unauthorized } from './errors';

/**
 * Type-checks the claims of a token whose signature checked out, against `schema`. Throws
 * `UNAUTHORIZED` `invalid_claims` naming the first bad claim, never its value: the claim came
 * from the token. Unknown claims are dropped by the schema, never copied over (copying an own
 * `__proto__` claim would set the prototype of the result).
 */
export function checkClaims<S extends z.ZodType>(schema: S, claims: unknown, kind: TokenKind): z.output<S> {
  // A claim named `__proto__`, `constructor` or `prototype` is never legitimate; refused by
  // name rather than dropped, so a signer's mistake shows instead of silently meaning something.
  if (typeof claims === 'object' && claims !== null) {
    for (const name of UNSAFE_KEYS) {
      if (Object.hasOwn(claims, name)) {
        throw unauthorized('invalid_claims', `claim '${name}' is a reserved name`, {
          kind,
          metadata: { claim: name },
        });
      }
    }
  }
  const result = schema.safeParse(claims);
  if (!result.success) {
    const issue = result.error.issues[0];
    const claim =
      issue === undefined || issue.path.length === 0 ? 'payload' : issue.path.map(String).join('.');
    throw unauthorized('invalid_claims', `claim '${claim}' is missing or invalid`, {
      kind,
      metadata: { claim },
    });
  }
  return result.data;
}
