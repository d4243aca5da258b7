/** What makes the `Authorization` header of a call: `createServiceAuth(…)` of `@clone/service-auth` fits. */
export interface AuthHeaderSource {
  createAuthHeader(targetService: string): Promise<{ Authorization: string }> | { Authorization: string };
}

/**
 * A cached service token (`ServiceAuthManager.createTokenProvider(…)`): `get()` returns a valid
 * token, `invalidate()` drops it so the next `get()` signs a new one.
 */
export interface TokenSource {
  get(): string;
  invalidate(): void;
}

/** Either kind of credentials a client accepts. */
export type ServiceCredentials = AuthHeaderSource | TokenSource;

/** Whether `value` is usable as credentials (checked once, at construction). */
export function isServiceCredentials(value: unknown): value is ServiceCredentials {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Partial<AuthHeaderSource & TokenSource>;
  return (
    typeof v.createAuthHeader === 'function' ||
    (typeof v.get === 'function' && typeof v.invalidate === 'function')
  );
}

/** The `Authorization` value for a call to `target`: sync when the source is. */
export function authorization(source: ServiceCredentials, target: string): string | Promise<string> {
  if ('get' in source && typeof source.get === 'function' && 'invalidate' in source) {
    return `Bearer ${(source as TokenSource).get()}`;
  }
  const header = (source as AuthHeaderSource).createAuthHeader(target);
  if (header !== null && typeof (header as Promise<unknown>).then === 'function') {
    return (header as Promise<{ Authorization: string }>).then((h) => h.Authorization);
  }
  return (header as { Authorization: string }).Authorization;
}

/** A 401 answered: a cached token is dropped so the next attempt signs a fresh one. */
export function forgetToken(source: ServiceCredentials): void {
  if ('invalidate' in source && typeof source.invalidate === 'function') source.invalidate();
}
