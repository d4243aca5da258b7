import { ServiceError, ServiceErrorCode } from '@clone/service-errors';

/** A value that survives `JSON.stringify` → `JSON.parse` unchanged: what a durable saga stores. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * Why `value` would not round-trip through JSON, as `path: reason`, or undefined when it would.
 * Stricter than `JSON.stringify`, which silently turns a Date into a string, a Map into `{}`, a
 * NaN into null and drops functions: a saga resumed in another process would then see a
 * different value than the step produced, so we refuse instead of corrupting. Never throws,
 * even for a value whose getters or proxy traps do.
 */
export function jsonProblem(value: unknown, path = '$'): string | undefined {
  const seen = new Set<object>();
  const walk = (v: unknown, at: string): string | undefined => {
    switch (typeof v) {
      case 'string':
        // PostgreSQL's jsonb (and many other stores) reject NUL inside strings.
        return v.includes('\u0000') ? `${at} contains a NUL character` : undefined;
      case 'boolean':
        return undefined;
      case 'number':
        return Number.isFinite(v) ? undefined : `${at} is ${v}, which JSON cannot represent`;
      case 'undefined':
        return `${at} is undefined`;
      case 'bigint':
        return `${at} is a bigint; store it as a string`;
      case 'function':
        return `${at} is a function`;
      case 'symbol':
        return `${at} is a symbol`;
    }
    if (v === null) return undefined;
    const obj = v as object;
    if (seen.has(obj)) return `${at} is a circular reference`;
    if (Array.isArray(obj)) {
      seen.add(obj);
      for (let i = 0; i < obj.length; i++) {
        const problem = walk(obj[i], `${at}[${i}]`);
        if (problem) return problem;
      }
      seen.delete(obj);
      return undefined;
    }
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const name = (obj.constructor as { name?: string } | undefined)?.name ?? 'object';
      const hint =
        obj instanceof Date
          ? '; store date.toISOString()'
          : Buffer.isBuffer(obj)
            ? '; store it as base64'
            : '';
      return `${at} is a ${name}, not a plain object${hint}`;
    }
    seen.add(obj);
    for (const [key, child] of Object.entries(obj)) {
      // An undefined property is simply absent after a round trip, which is what optional fields mean.
      if (child === undefined) continue;
      const problem = walk(child, `${at}.${key}`);
      if (problem) return problem;
    }
    seen.delete(obj);
    return undefined;
  };
  try {
    return walk(value, path);
  } catch {
    // Reading the value threw: it cannot be stored either (what it threw is not read further).
    return `${path} could not be read: a getter or proxy trap threw`;
  }
}

/** Throws ServiceError `BAD_REQUEST` naming `what` and the offending path when `value` is not JSON. */
export function assertJson(
  value: unknown,
  what: string,
  metadata?: Record<string, unknown>,
): asserts value is JsonValue {
  const problem = jsonProblem(value);
  if (problem === undefined) return;
  throw new ServiceError(
    ServiceErrorCode.BAD_REQUEST,
    `${what} cannot be stored as JSON: ${problem}`,
    undefined,
    {
      retryable: false,
      metadata: { ...metadata, problem },
    },
  );
}

/**
 * Freezes a JSON value in place. A durable saga's context and results are what the store
 * says they are: a handler that mutated them would see changes a resumed run would not.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
