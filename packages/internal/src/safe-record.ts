import { z } from 'zod';
import { UNSAFE_KEYS } from './safe-key';

/**
 * `z.record(z.string(), value)` that refuses the keys a plain object cannot hold
 * (`__proto__`, `constructor`, `prototype`) by name. zod's own record drops a `__proto__` key
 * without a word (as `JSON.parse` input can carry it), so the check runs before it.
 */
export function safeRecord<V extends z.ZodType>(
  value: V,
): z.ZodType<Record<string, z.output<V>>, Record<string, z.input<V>>> {
  return z
    .unknown()
    .superRefine((input, ctx) => {
      if (typeof input !== 'object' || input === null) return;
      for (const key of Object.keys(input)) {
        if (UNSAFE_KEYS.has(key))
          ctx.addIssue({ code: 'custom', path: [key], message: `${JSON.stringify(key)} is a reserved name` });
      }
    })
    .pipe(z.record(z.string(), value)) as unknown as z.ZodType<
    Record<string, z.output<V>>,
    Record<string, z.input<V>>
  >;
}
