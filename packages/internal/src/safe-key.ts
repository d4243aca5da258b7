/**
 * Names that a plain object cannot hold as an own data key without surprises: `__proto__`
 * changes the prototype instead, and the other two shadow what every object inherits.
 */
export const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Whether `key` is one of {@link UNSAFE_KEYS}. */
export function isUnsafeKey(key: string): boolean {
  return UNSAFE_KEYS.has(key);
}

/**
 * Returns a reason when `key` may not be used as a name (for a field, a map key, an id), to
 * be thrown by the caller under its own field name; `undefined` when it is fine.
 */
export function unsafeKeyReason(key: string): string | undefined {
  return UNSAFE_KEYS.has(key) ? `${JSON.stringify(key)} is a reserved name` : undefined;
}
