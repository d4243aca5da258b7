import { formatValue } from '@clone/internal';
import type { z } from 'zod';
import { ServiceErrorCode } from './error-code';
import { ServiceError } from './service-error';

/**
 * Parses options with a zod schema (once, at construction; the event bus also checks each event
 * with it). A failure throws ServiceError
 * `BAD_REQUEST` whose message names the field and the value, e.g.
 * `CircuitBreaker: failureThreshold must be a positive integer, got -1`; the zod issues are
 * kept in `metadata.issues` and the ZodError as `cause`.
 */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, context: string): z.output<S> {
  // Parsed plainly first: asking zod to copy the input into each issue (which the message needs)
  // makes even a successful parse several times slower, and the event bus parses every event.
  const plain = schema.safeParse(input);
  if (plain.success) return plain.data;
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
