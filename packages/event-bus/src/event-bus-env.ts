import type { z } from 'zod';
import { badRequest } from './bad-request';
import { type EventBusOptions, eventBusOptionsSchema } from './event-bus-options';

/** Environment variables, as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;

const VARIABLES = [
  ['EVENT_BUS_MAX_LISTENERS', 'maxSubscriptions'],
  ['EVENT_BUS_RETRY_DELAY', 'retryDelayMs'],
  ['EVENT_BUS_MAX_RETRIES', 'retryAttempts'],
  ['EVENT_BUS_DEAD_LETTER_THRESHOLD', 'deadLetterThreshold'],
] as const;

/**
 * Bus options from the environment: `RABBITMQ_URL` (`url`), `EVENT_BUS_MAX_LISTENERS`
 * (`maxSubscriptions`), `EVENT_BUS_RETRY_DELAY` (`retryDelayMs`), `EVENT_BUS_MAX_RETRIES`
 * (`retryAttempts`), `EVENT_BUS_DEAD_LETTER_THRESHOLD` (`deadLetterThreshold`). Each is checked by
 * its option's own schema; a bad value throws BAD_REQUEST naming the variable. Spread the result
 * under your own options: `createEventBus({ ...eventBusOptionsFromEnv(), serviceName })`.
 */
export function eventBusOptionsFromEnv(env: Env = process.env): Partial<EventBusOptions> {
  const options: Record<string, unknown> = {};
  const url = env.RABBITMQ_URL?.trim();
  if (url) options.url = url;
  const shape = eventBusOptionsSchema.shape as Record<string, z.ZodType>;
  for (const [variable, field] of VARIABLES) {
    const raw = env[variable]?.trim();
    if (!raw) continue;
    // Plain decimal only: Number() would also take '0x10' or '1e3', which no one means here.
    const result = shape[field]!.safeParse(/^\d+$/.test(raw) ? Number(raw) : Number.NaN);
    if (!result.success) {
      throw badRequest(
        `${variable} ${result.error.issues[0]?.message ?? 'is invalid'}, got '${raw}'`,
        field,
        { variable },
      );
    }
    options[field] = result.data;
  }
  return options as Partial<EventBusOptions>;
}
