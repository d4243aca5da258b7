import type { Channel } from 'amqplib';
import type { SubscriptionSpec } from './subscription';

/** The names of the queues one subscription queue brings with it. */
export interface QueueNames {
  /** The subscription's own queue (quorum, durable). */
  readonly main: string;
  /** Where events it gave up on wait for a fix and a replay. */
  readonly deadLetter: string;
  /** One per distinct retry delay: events wait there for their TTL, then return to `main`. */
  readonly retry: ReadonlyMap<number, string>;
}

/** The exchange dead letters are routed through (the broker's own delivery-limit dead-lettering too). */
export function deadLetterExchange(exchange: string): string {
  return `${exchange}.dead-letter`;
}

/** The queue names of a subscription. */
export function queueNames(spec: SubscriptionSpec): QueueNames {
  const retry = new Map<number, string>();
  for (const delay of spec.retryDelays) retry.set(delay, `${spec.queue}.retry.${delay}ms`);
  return { main: spec.queue, deadLetter: `${spec.queue}.dead-letter`, retry };
}

/** Declares the exchanges every bus uses: the durable topic exchange and the dead-letter one. */
export async function declareExchanges(channel: Channel, exchange: string): Promise<void> {
  await channel.assertExchange(exchange, 'topic', { durable: true });
  await channel.assertExchange(deadLetterExchange(exchange), 'direct', { durable: true });
}

/**
 * Declares a subscription's queues and bindings; idempotent, so it runs again after every
 * reconnect (a broker that lost its definitions gets them back before consuming resumes).
 * - main: a quorum queue (replicated, fsynced before confirming) whose `x-delivery-limit` caps a
 *   message that kills its consumer every time: past the limit the broker dead-letters it.
 * - retry queues: no consumer; `x-message-ttl` holds an event for its backoff delay, then the
 *   broker dead-letters it back to `main` through the default exchange. A queue per delay, since
 *   a TTL'd queue only expires its head (no delayed-message plugin needed).
 * - dead-letter queue: bound to the dead-letter exchange under its own name.
 */
export async function declareSubscription(
  channel: Channel,
  exchange: string,
  spec: SubscriptionSpec,
  names: QueueNames,
): Promise<void> {
  const dlx = deadLetterExchange(exchange);
  await channel.assertQueue(names.deadLetter, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await channel.bindQueue(names.deadLetter, dlx, names.deadLetter);
  await channel.assertQueue(names.main, {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-delivery-limit': spec.deliveryLimit,
      'x-dead-letter-exchange': dlx,
      'x-dead-letter-routing-key': names.deadLetter,
    },
  });
  for (const [delay, name] of names.retry) {
    await channel.assertQueue(name, {
      durable: true,
      arguments: {
        'x-message-ttl': delay,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': names.main,
      },
    });
  }
  await channel.bindQueue(names.main, exchange, spec.pattern);
}
