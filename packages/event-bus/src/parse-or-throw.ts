import { parseOptions } from '@clone/service-errors';
import type { z } from 'zod';

/**
 * Parses `input` with `schema` and returns the result, or throws the BAD_REQUEST that
 * `parseOptions` throws (naming the field). It runs for every event published or received, so the
 * input is parsed plainly first: asking zod to copy the input into each issue, which the error
 * needs, makes even a successful parse several times slower, and is only worth it on a failure.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, context: string): z.output<S> {
  const result = schema.safeParse(input);
  return result.success ? result.data : parseOptions(schema, input, context);
}
