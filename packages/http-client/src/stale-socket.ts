/**
 * Error codes of a pooled keep-alive socket that the server closed while it sat idle: the
 * request was written to a dead socket, and nothing came back (undici #3492). The request never
 * reached a handler, so sending it once more on a fresh connection is safe for a request that
 * may be repeated.
 */
const STALE_CODES: ReadonlySet<string> = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/** Whether `error`, thrown before any response byte, is a stale pooled socket's (or caused by one). */
export function isStaleSocketError(error: unknown): boolean {
  let current = error;
  // A short walk down `cause`: enough for undici's wrapping, safe against a cycle.
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && STALE_CODES.has(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
