import { z } from 'zod';
import { ServiceErrorCode } from './error-code';
import { ServiceError } from './service-error';

/**
 * Parses options with a zod schema once, at construction. A failure throws ServiceError
 * `BAD_REQUEST` whose message names the field and the value, e.g.
 * `CircuitBreaker: failureThreshold must be a positive integer, got -1`; the zod issues are
 * kept in `metadata.issues` and the ZodError as `cause`.
 */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, context: string): z.output<S> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const issues = result.error.issues.map(describeIssue);
  const first = issues[0]!;
  const more =
    issues.length > 1
      ? ` (and ${issues.length - 1} more: ${issues
          .slice(1)
          .map((i) => i.text)
          .join('; ')})`
      : '';
  throw new ServiceError(ServiceErrorCode.BAD_REQUEST, `${context}: ${first.text}${more}`, undefined, {
    retryable: false,
    cause: result.error,
    metadata: {
      field: first.field,
      issues: issues.map(({ field, text }) => ({ field, message: text })),
    },
  });
}

interface DescribedIssue {
  field: string;
  text: string;
}

function describeIssue(issue: z.core.$ZodIssue): DescribedIssue {
  const field = issue.path.length === 0 ? 'options' : issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `'${k}'`).join(', ');
    const where = issue.path.length === 0 ? '' : ` in ${field}`;
    return { field: issue.keys[0] ?? field, text: `unknown option ${keys}${where}` };
  }
  const input = (issue as { input?: unknown }).input;
  if (issue.code === 'invalid_type' && input === undefined) return { field, text: `${field} is required` };
  return { field, text: `${field} ${issue.message}, got ${formatValue(input)}` };
}

/** Renders a rejected value for an error message; long strings are cut and secrets never pass here. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 64 ? `${value.slice(0, 61)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  try {
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
  } catch {
    return 'an object';
  }
}

/** An integer ≥ `min` (default 1), with a message that says so. */
export function intAtLeast(min = 1, max?: number): z.ZodNumber {
  const text =
    max !== undefined
      ? `must be an integer between ${min} and ${max}`
      : min === 1
        ? 'must be a positive integer'
        : min === 0
          ? 'must be a non-negative integer'
          : `must be an integer >= ${min}`;
  let schema = z.number({ error: text }).int({ error: text }).min(min, { error: text });
  if (max !== undefined) schema = schema.max(max, { error: text });
  return schema;
}

/** A finite number ≥ `min` (default 0), with a message that says so. */
export function numberAtLeast(min = 0, max?: number): z.ZodNumber {
  const text =
    max !== undefined
      ? `must be a number between ${min} and ${max}`
      : min === 0
        ? 'must be a non-negative number'
        : `must be a number >= ${min}`;
  let schema = z.number({ error: text }).min(min, { error: text });
  if (max !== undefined) schema = schema.max(max, { error: text });
  return schema;
}

/** A non-empty string, with a message that says so. */
export function nonEmptyString(): z.ZodString {
  const text = 'must be a non-empty string';
  return z.string({ error: text }).min(1, { error: text });
}
