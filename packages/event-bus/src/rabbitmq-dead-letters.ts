import type * as amqp from 'amqplib';
import type { DeadLetter } from './dead-letter';
import { deadLetterFromMessage, replayHeaders } from './rabbitmq-messages';

/** Publishes to a queue and resolves once the broker confirmed it. */
export type SendToQueue = (queue: string, content: Buffer, options: amqp.Options.Publish) => Promise<void>;

/** The dead letters of each subscription queue (`<queue>.dead-letter`), left where they are. */
export function readDeadLetters(
  connection: amqp.ChannelModel,
  queues: readonly string[],
): Promise<DeadLetter[]> {
  return browse(connection, queues, async (_channel, name, messages) =>
    messages.map((m) => deadLetterFromMessage(name, m)),
  );
}

/** Empties the dead-letter queues; resolves to how many messages were removed. */
export async function clearDeadLetters(
  connection: amqp.ChannelModel,
  queues: readonly string[],
): Promise<number> {
  const channel = await connection.createChannel();
  try {
    let removed = 0;
    for (const name of queues) removed += (await channel.purgeQueue(`${name}.dead-letter`)).messageCount;
    return removed;
  } finally {
    await channel.close().catch(() => {});
  }
}

/**
 * Sends dead letters (all, or the one of `eventId`) back to their subscription queue, each removed
 * from the dead-letter queue only once the broker confirmed its copy: a replay interrupted midway
 * loses nothing (at worst a letter is delivered again and the inbox absorbs it).
 */
export async function replayDeadLetters(
  connection: amqp.ChannelModel,
  queues: readonly string[],
  eventId: string | undefined,
  send: SendToQueue,
): Promise<number> {
  const counts = await browse(connection, queues, async (channel, name, messages) => {
    let replayed = 0;
    for (const message of messages) {
      if (eventId !== undefined && deadLetterFromMessage(name, message).id !== eventId) continue;
      await send(name, message.content, {
        ...message.properties,
        headers: replayHeaders(message),
        persistent: true,
      });
      channel.ack(message);
      replayed++;
    }
    return [replayed];
  });
  return counts.reduce((a, b) => a + b, 0);
}

/** Reads every dead letter of each queue on one channel, hands them to `fn`, then closes it. */
async function browse<T>(
  connection: amqp.ChannelModel,
  queues: readonly string[],
  fn: (channel: amqp.Channel, queue: string, messages: amqp.GetMessage[]) => Promise<T[]>,
): Promise<T[]> {
  const channel = await connection.createChannel();
  try {
    const results: T[] = [];
    for (const name of queues) {
      const messages: amqp.GetMessage[] = [];
      for (;;) {
        const message = await channel.get(`${name}.dead-letter`, { noAck: false });
        if (message === false) break;
        messages.push(message);
      }
      results.push(...(await fn(channel, name, messages)));
    }
    return results;
  } finally {
    // Messages read but not acknowledged go back to their queue, in order.
    await channel.close().catch(() => {});
  }
}
