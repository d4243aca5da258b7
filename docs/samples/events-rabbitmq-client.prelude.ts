// provides: logger
import type { Logger } from '@clone/service-errors';

/**
 * The structured logger the RabbitMQ client sample hands to the bus. Without RABBITMQ_URL the
 * bus runs in memory, so the sample runs anywhere; with it, against that broker.
 */
export default async function setup() {
  const write =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      console.log(`[${level}] ${message}`, fields ?? {});
    };
  const logger: Logger = { debug: () => {}, info: write('info'), warn: write('warn'), error: write('error') };
  return { logger };
}
