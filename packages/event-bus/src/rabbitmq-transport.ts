import { backoffDelay, Emitter, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import * as amqp from 'amqplib';
import { AckBatcher } from './ack-batcher';
import { coalesceWrites } from './coalesce-writes';
import { ConcurrencyGate } from './concurrency-gate';
import type { DeadLetter } from './dead-letter';
import type { TransportConfig } from './event-bus-options';
import { clearDeadLetters, readDeadLetters, replayDeadLetters } from './rabbitmq-dead-letters';
import { outcomeHeaders, toDelivery } from './rabbitmq-messages';
import { type PendingPublish, PublishBuffer } from './rabbitmq-publish-buffer';
import { declareExchanges, declareSubscription, type QueueNames, queueNames } from './rabbitmq-topology';
import type { SubscriptionSpec } from './subscription';
import type { DeliveryHandler, EventTransport, Outcome, TransportEvents } from './transport';

interface Consumer {
  readonly spec: SubscriptionSpec;
  readonly names: QueueNames;
  readonly handler: DeliveryHandler;
  readonly gate: ConcurrencyGate;
  channel: amqp.Channel | undefined;
  /** Acknowledges the deliveries of `channel`; replaced with it on every attach. */
  acks: AckBatcher | undefined;
  tag: string | undefined;
  attached: (() => void)[];
}

/** One connection attempt: its connection once made, and whether it was given up. */
interface Attempt {
  connection: amqp.ChannelModel | undefined;
  expired: boolean;
}

/** A live connection and what was opened on it. */
interface Session {
  readonly connection: amqp.ChannelModel;
  readonly publisher: amqp.ConfirmChannel;
  lost: boolean;
}

/**
 * The RabbitMQ transport. One connection with a confirm channel for publishing and a channel per
 * subscription (its own prefetch). When the connection or any channel dies it reconnects with
 * backoff, declares the topology again and re-attaches every consumer. Publishes made while
 * disconnected, and those sent but unconfirmed when the connection died, wait in a bounded buffer
 * and are sent again after reconnecting (at-least-once; consumers drop the duplicates by id).
 */
export class RabbitMQTransport implements EventTransport {
  readonly #config: TransportConfig;
  readonly #events = new Emitter<TransportEvents>();
  readonly #consumers: Consumer[] = [];
  readonly #buffer: PublishBuffer;
  readonly #inFlight = new Set<Promise<void>>();
  #session: Session | undefined;
  #connecting = false;
  #failures = 0;
  #lastDelay = 0;
  #reconnectTimer: unknown;
  #waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  #closed = false;

  constructor(config: TransportConfig) {
    this.#config = config;
    this.#buffer = new PublishBuffer(config);
  }

  connect(): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    if (this.#session !== undefined) return Promise.resolve();
    const waiting = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (!this.#connecting && this.#reconnectTimer === undefined) void this.#open();
    return waiting;
  }

  isConnected(): boolean {
    return this.#session !== undefined;
  }

  on<K extends keyof TransportEvents>(event: K, listener: (payload: TransportEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  publish(routingKey: string, body: string, headers: Record<string, string>): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    return this.#buffer.add(routingKey, Buffer.from(body), headers, (pending) => this.#send(pending));
  }

  async consume(spec: SubscriptionSpec, handler: DeliveryHandler): Promise<void> {
    const consumer: Consumer = {
      spec,
      names: queueNames(spec),
      handler,
      gate: new ConcurrencyGate(spec.concurrency),
      channel: undefined,
      acks: undefined,
      tag: undefined,
      attached: [],
    };
    this.#consumers.push(consumer);
    const attached = new Promise<void>((resolve) => consumer.attached.push(resolve));
    const session = this.#session;
    if (session !== undefined)
      await this.#attach(session, consumer).catch((e: unknown) => this.#lose(session, e));
    else void this.connect().catch(() => {});
    return attached;
  }

  async deadLetters(queues: readonly string[]): Promise<DeadLetter[]> {
    return readDeadLetters(this.#requireSession().connection, queues);
  }

  async clearDeadLetters(queues: readonly string[]): Promise<number> {
    return clearDeadLetters(this.#requireSession().connection, queues);
  }

  async replayDeadLetters(queues: readonly string[], eventId: string | undefined): Promise<number> {
    return replayDeadLetters(this.#requireSession().connection, queues, eventId, (queue, content, options) =>
      this.#sendToQueue(queue, content, options),
    );
  }

  async retryQueueSize(queues: readonly string[]): Promise<number> {
    const session = this.#requireSession();
    const wanted = new Set(queues);
    let size = 0;
    for (const consumer of this.#consumers) {
      if (!wanted.has(consumer.names.main)) continue;
      wanted.delete(consumer.names.main);
      for (const name of consumer.names.retry.values()) {
        const channel = await session.connection.createChannel();
        size += (await channel.checkQueue(name)).messageCount;
        await channel.close().catch(() => {});
      }
    }
    return size;
  }

  async close(timeoutMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#reconnectTimer !== undefined) this.#config.clock.clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    // Stop new deliveries first, then let running handlers and unconfirmed publishes finish.
    await Promise.all(
      this.#consumers.map((c) => (c.tag ? c.channel?.cancel(c.tag).catch(() => {}) : undefined)),
    );
    let timer: unknown;
    await Promise.race([
      Promise.allSettled([...this.#inFlight, this.#buffer.whenConfirmed()]),
      new Promise<void>((resolve) => {
        timer = this.#config.clock.setTimeout(resolve, timeoutMs, true);
      }),
    ]);
    this.#config.clock.clearTimeout(timer);
    // Handlers that finished are acknowledged now, not on a turn of the loop after the close.
    for (const consumer of this.#consumers) consumer.acks?.flush();
    this.#buffer.rejectAll(closedError());
    for (const w of this.#waiters.splice(0)) w.reject(closedError());
    const session = this.#session;
    this.#session = undefined;
    // Closing the connection returns every unacknowledged delivery to its queue for redelivery.
    await session?.connection.close().catch(() => {});
  }

  async #open(): Promise<void> {
    this.#connecting = true;
    const attempt: Attempt = { connection: undefined, expired: false };
    // A broker can accept the connection and then never answer the handshake, a declare or a
    // consume (RabbitMQ 3.10 with a quorum queue that did not come back from a crash): the attempt
    // is bounded, its connection closed (which rejects what it still waits for), and retried.
    const limit = this.#config.setupTimeoutMs;
    let timer: unknown;
    const expired = new Promise<never>((_, reject) => {
      timer = this.#config.clock.setTimeout(
        () => {
          attempt.expired = true;
          attempt.connection?.close().catch(() => {});
          reject(new Error(`no answer within ${limit} ms (setupTimeoutMs)`));
        },
        limit,
        true,
      );
    });
    const setup = this.#setUp(attempt);
    setup.catch(() => {}); // after expiry nobody waits for it
    try {
      const session = await Promise.race([setup, expired]);
      this.#config.clock.clearTimeout(timer);
      this.#session = session;
      this.#failures = 0;
      this.#lastDelay = 0;
      this.#connecting = false;
      this.#buffer.flush((pending) => this.#send(pending));
      for (const w of this.#waiters.splice(0)) w.resolve();
      this.#events.emit('connected', undefined);
    } catch (error) {
      this.#config.clock.clearTimeout(timer);
      attempt.expired = true; // a connection still on its way is closed when it comes
      this.#connecting = false;
      await attempt.connection?.close().catch(() => {});
      const failure = unavailable('cannot connect to RabbitMQ', error);
      for (const w of this.#waiters.splice(0)) w.reject(failure);
      if (!this.#closed) {
        this.#events.emit('error', failure);
        this.#scheduleReconnect();
      }
    }
  }

  /** Connects, declares the topology and attaches every consumer: one attempt of {@link #open}. */
  async #setUp(attempt: Attempt): Promise<Session> {
    const url = new URL(this.#config.url);
    if (!url.searchParams.has('heartbeat'))
      url.searchParams.set('heartbeat', String(this.#config.heartbeatSeconds));
    const connection = await amqp.connect(url.toString(), {
      clientProperties: { connection_name: this.#config.serviceName },
      // Nagle's algorithm held a lone confirmed publish back (~20% slower one at a time, measured);
      // bursts still leave in one write (coalesceWrites).
      noDelay: true,
    });
    connection.on('error', () => {}); // 'close' follows and carries the error
    attempt.connection = connection;
    if (attempt.expired) {
      await connection.close().catch(() => {});
      throw new Error('connected after the attempt was given up');
    }
    coalesceWrites(connection);
    const publisher = await connection.createConfirmChannel();
    const session: Session = { connection, publisher, lost: false };
    connection.on('close', (error?: Error) => this.#lose(session, error));
    publisher.on('error', () => {});
    publisher.on('close', () => this.#lose(session, undefined));
    await declareExchanges(publisher, this.#config.exchange);
    if (this.#closed) throw closedError();
    for (const consumer of this.#consumers) await this.#attach(session, consumer);
    if (session.lost) throw new Error('the connection was lost while setting up');
    return session;
  }

  /** Called for every sign of a dead connection or channel; the first one tears down and reconnects. */
  #lose(session: Session, error: unknown): void {
    if (session.lost) return;
    session.lost = true;
    if (this.#session === session) this.#session = undefined;
    for (const consumer of this.#consumers) {
      consumer.channel = undefined;
      consumer.acks = undefined;
      consumer.tag = undefined;
    }
    // Unconfirmed publishes may or may not be stored: send them again after reconnecting.
    this.#buffer.requeueUnconfirmed();
    session.connection.close().catch(() => {});
    if (this.#closed) return;
    const cause = error instanceof Error ? error : undefined;
    this.#events.emit('disconnected', { error: cause });
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#connecting || this.#reconnectTimer !== undefined) return;
    this.#failures++;
    this.#lastDelay = backoffDelay(
      this.#failures,
      this.#lastDelay,
      {
        initialDelayMs: this.#config.reconnectDelayMs,
        maxDelayMs: this.#config.maxReconnectDelayMs,
        backoffMultiplier: 2,
        jitter: 'equal',
      },
      this.#config.random,
    );
    // Referenced on purpose: a consumer service must not exit because the broker is down a while.
    this.#reconnectTimer = this.#config.clock.setTimeout(
      () => {
        this.#reconnectTimer = undefined;
        void this.#open();
      },
      this.#lastDelay,
      false,
    );
  }

  async #attach(session: Session, consumer: Consumer): Promise<void> {
    const channel = await session.connection.createChannel();
    channel.on('error', () => {});
    channel.on('close', () => this.#lose(session, undefined));
    await channel.prefetch(consumer.spec.prefetch);
    await declareSubscription(channel, this.#config.exchange, consumer.spec, consumer.names);
    const acks = new AckBatcher(channel, () => !session.lost);
    const { consumerTag } = await channel.consume(consumer.names.main, (message) => {
      if (message === null)
        this.#lose(session, new Error(`consumer of ${consumer.names.main} cancelled by the broker`));
      else this.#deliver(session, consumer, channel, acks, message);
    });
    consumer.channel = channel;
    consumer.acks = acks;
    consumer.tag = consumerTag;
    for (const resolve of consumer.attached.splice(0)) resolve();
  }

  #deliver(
    session: Session,
    consumer: Consumer,
    channel: amqp.Channel,
    acks: AckBatcher,
    message: amqp.ConsumeMessage,
  ): void {
    const tag = message.fields.deliveryTag;
    acks.received(tag);
    const run: Promise<void> = consumer.gate
      .run(async () => {
        // Closing: leave it unacknowledged, the broker gives it to another consumer.
        if (this.#closed || session.lost) return;
        const delivery = toDelivery(message);
        const outcome = await consumer.handler(delivery);
        if (outcome.action !== 'ack') await this.#resend(consumer, message, delivery, outcome);
        acks.done(tag);
      })
      .then(
        () => {
          this.#inFlight.delete(run);
        },
        (error: unknown) => {
          this.#inFlight.delete(run);
          this.#events.emit('error', error instanceof Error ? error : new Error(String(error)));
          // Back on the queue (counts toward the delivery limit); a dead channel returns it anyway.
          if (session.lost) return;
          acks.skip(tag);
          try {
            channel.nack(message, false, true);
          } catch {
            // channel closed meanwhile
          }
        },
      );
    this.#inFlight.add(run);
  }

  /** Sends a failed message to its retry or dead-letter queue, confirmed, before the ack. */
  async #resend(
    consumer: Consumer,
    message: amqp.ConsumeMessage,
    delivery: ReturnType<typeof toDelivery>,
    outcome: Outcome & { action: 'retry' | 'dead' },
  ): Promise<void> {
    let queue: string;
    if (outcome.action === 'retry')
      queue = consumer.names.retry.get(consumer.spec.retryDelays[outcome.retryIndex]!)!;
    else if (consumer.spec.deadLetter) queue = consumer.names.deadLetter;
    else {
      this.#config.logger.error('event dropped after its retries (deadLetterQueue: false)', {
        queue: consumer.names.main,
        routingKey: delivery.routingKey,
        error: outcome.error,
      });
      return;
    }
    await this.#sendToQueue(queue, message.content, {
      ...message.properties,
      headers: outcomeHeaders(message, delivery, outcome),
      persistent: true,
    });
  }

  /** Publishes straight to a queue and waits for the confirm; fails at once while disconnected. */
  #sendToQueue(queue: string, content: Buffer, options: amqp.Options.Publish): Promise<void> {
    const session = this.#requireSession();
    return new Promise((resolve, reject) => {
      session.publisher.sendToQueue(queue, content, options, (error) =>
        error ? reject(unavailable(`no confirm for a message to ${queue}`, error)) : resolve(),
      );
    });
  }

  #send(pending: PendingPublish): void {
    const session = this.#session;
    if (session === undefined || session.lost) {
      this.#buffer.park(pending);
      return;
    }
    this.#buffer.sent(pending, session);
    const { 'x-event-id': messageId, 'x-correlation-id': correlationId } = pending.headers;
    try {
      // The event's id and correlation id travel as AMQP properties, not a headers table: the
      // broker parses a table on every publish, and the envelope in the body carries them anyway.
      session.publisher.publish(
        this.#config.exchange,
        pending.routingKey,
        pending.content,
        {
          persistent: true,
          contentType: 'application/json',
          ...(messageId === undefined ? {} : { messageId }),
          ...(correlationId === undefined ? {} : { correlationId }),
          appId: pending.headers['x-source'] ?? this.#config.serviceName,
        },
        (error) => this.#buffer.confirmed(pending, session, error, (p) => this.#send(p)),
      );
    } catch (error) {
      this.#lose(session, error);
    }
  }

  #requireSession(): Session {
    if (this.#closed) throw closedError();
    if (this.#session === undefined) throw unavailable('not connected to RabbitMQ', undefined);
    return this.#session;
  }
}

function unavailable(message: string, cause: unknown): ServiceError {
  return new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, message, undefined, { cause });
}

function closedError(): ServiceError {
  return new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'event bus is closed', undefined, {
    retryable: false,
  });
}
