/** Methods whose repetition has the effect of one call (RFC 9110 §9.2.2): safe to retry. */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** The header a server dedupes repeated non-idempotent requests by. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/**
 * Whether a request may be sent again after a failure: an idempotent method, or any request
 * carrying an `Idempotency-Key` (the server answers a repeat with the first outcome).
 */
export function isRetrySafe(method: string, hasIdempotencyKey: boolean): boolean {
  return hasIdempotencyKey || IDEMPOTENT_METHODS.has(method);
}
