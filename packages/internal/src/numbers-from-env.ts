import type { z } from 'zod';
import { formatValue } from './format-value';

/** Environment variables, as `process.env` holds them. */
export type EnvVariables = Readonly<Record<string, string | undefined>>;

/** Why a variable was refused: the caller turns it into its own error (BAD_REQUEST). */
export interface EnvProblem {
  variable: string;
  field: string;
  /** `<VARIABLE> <what the option's schema says>, got "<raw value>"`. */
  message: string;
}

/**
 * Numeric options from environment variables, each checked by the schema of the option it sets,
 * so a variable has exactly the bounds of the option in code (a duration cannot overflow a timer
 * whether it comes from code or from the environment). Unset or blank variables are left out, so
 * defaults apply. Only plain decimals are read: `Number()` would also take `0x10`, `1e3` or
 * `Infinity`, which nobody means in a configuration. A refused value calls `refuse`, which throws
 * the package's own error: this package cannot depend on `ServiceError`.
 */
export function numbersFromEnv<O>(
  env: EnvVariables,
  variables: readonly (readonly [variable: string, field: keyof O & string])[],
  shape: Readonly<Record<string, z.ZodType>>,
  refuse: (problem: EnvProblem) => never,
): Partial<O> {
  const options: Record<string, unknown> = {};
  for (const [variable, field] of variables) {
    const raw = env[variable];
    const text = raw?.trim();
    if (raw === undefined || !text) continue;
    const result = shape[field]!.safeParse(/^[+-]?\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN);
    if (!result.success) {
      const issue = result.error.issues[0]?.message ?? 'is invalid';
      refuse({ variable, field, message: `${variable} ${issue}, got ${formatValue(raw)}` });
    }
    options[field] = result.data;
  }
  return options as Partial<O>;
}
