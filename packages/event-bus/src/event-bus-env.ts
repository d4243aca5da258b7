import { numbersFromEnv } from '@clone/internal';
import type { Env } from '@clone/service-errors';
import type { z } from 'zod';
import { badRequest } from './bad-request';
import { type EventBusOptions, eventBusOptionsSchema } from './event-bus-options';

/** Environment variables, as `process.env` holds them (the type `@clone/service-errors` reads them as). */
export type { Env };

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
  const options = numbersFromEnv<EventBusOptions>(
    env,
    VARIABLES,
    eventBusOptionsSchema.shape as Readonly<Record<string, z.ZodType>>,
    ({ variable, field, message }) => {
      throw badRequest(message, field, { variable });
    },
  );
  const url = env.RABBITMQ_URL?.trim();
  return url ? { url, ...options } : options;
}
