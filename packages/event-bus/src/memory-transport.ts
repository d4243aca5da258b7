import { type Clock, Emitter, type Logger, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { ConcurrencyGate } from './concurrency-gate';
import { type DeadLetter, toDeadLetter } from './dead-letter';
import type { SubscriptionSpec } from './subscription';
import type { Delivery, DeliveryHandler, EventTransport, Outcome, TransportEvents } from './transport';

/** Routing keys whose queues are remembered at once; past it the memo starts over. */
const MAX_ROUTES = 1000;

interface Consumer {
  readonly spec: SubscriptionSpec;
  readonly handler: DeliveryHandler;
  readonly gate: ConcurrencyGate;
}

interface MemoryQueue {
  readonly name: string;
  readonly patterns: SubscriptionSpec[];
  readonly messages: Delivery[];
  readonly consumers: Consumer[];
  readonly deadLetters: DeadLetter[];
  readonly retryTimers: Set<unknown>;
  next: number;
}

/**
 * The embedded transport: queues, topic bindings, retries on timers and dead letters, in this
 * process. It routes like the broker (one queue per subscription, competing consumers on a shared
 * queue, AMQP topic patterns), so code written against it behaves the same on RabbitMQ. Nothing
 * survives the process: events waiting for a retry are dropped by `close()`.
 */
export class MemoryTransport implements EventTransport {
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #queues = new Map<string, MemoryQueue>();
  readonly #events = new Emitter<TransportEvents>();
  readonly #inFlight = new Set<Promise<void>>();
  /** The queues each routing key reaches, as the broker's exchange would compute; reset on subscribe. */
  readonly #routes = new Map<string, MemoryQueue[]>();
  #closed = false;

  constructor(deps: { clock: Clock; logger: Logger }) {
    this.#clock = deps.clock;
    this.#logger = deps.logger;
  }

  async connect(): Promise<void> {
    this.#assertOpen();
  }

  isConnected(): boolean {
    return !this.#closed;
  }

  on<K extends keyof TransportEvents>(event: K, listener: (payload: TransportEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  async publish(routingKey: string, body: string): Promise<void> {
    this.#assertOpen();
    for (const queue of this.#route(routingKey)) {
      queue.messages.push({ body, routingKey, attempt: 1, firstFailureAt: undefined });
      this.#dispatch(queue);
    }
  }

  async consume(spec: SubscriptionSpec, handler: DeliveryHandler): Promise<void> {
    this.#assertOpen();
    const queue = this.#queue(spec.queue);
    queue.patterns.push(spec);
    this.#routes.clear();
    queue.consumers.push({ spec, handler, gate: new ConcurrencyGate(spec.concurrency) });
    this.#dispatch(queue);
  }

  async deadLetters(queues: readonly string[]): Promise<DeadLetter[]> {
    return queues.flatMap((name) => this.#queues.get(name)?.deadLetters ?? []);
  }

  async clearDeadLetters(queues: readonly string[]): Promise<number> {
    let removed = 0;
    for (const name of queues) {
      const queue = this.#queues.get(name);
      if (queue) removed += queue.deadLetters.splice(0).length;
    }
    return removed;
  }

  async replayDeadLetters(queues: readonly string[], eventId: string | undefined): Promise<number> {
    let replayed = 0;
    for (const name of queues) {
      const queue = this.#queues.get(name);
      if (!queue) continue;
      const keep: DeadLetter[] = [];
      for (const letter of queue.deadLetters) {
        if (eventId !== undefined && letter.id !== eventId) keep.push(letter);
        else {
          queue.messages.push({
            body: letter.body,
            routingKey: letter.routingKey,
            attempt: 1,
            firstFailureAt: undefined,
          });
          replayed++;
        }
      }
      queue.deadLetters.splice(0, queue.deadLetters.length, ...keep);
      this.#dispatch(queue);
    }
    return replayed;
  }

  async retryQueueSize(queues: readonly string[]): Promise<number> {
    return queues.reduce((n, name) => n + (this.#queues.get(name)?.retryTimers.size ?? 0), 0);
  }

  async close(timeoutMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const queue of this.#queues.values()) {
      for (const timer of queue.retryTimers) this.#clock.clearTimeout(timer);
      queue.retryTimers.clear();
    }
    if (this.#inFlight.size > 0) {
      let timer: unknown;
      await Promise.race([
        Promise.allSettled([...this.#inFlight]),
        new Promise<void>((resolve) => {
          timer = this.#clock.setTimeout(resolve, timeoutMs, true);
        }),
      ]);
      this.#clock.clearTimeout(timer);
    }
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'event bus is closed', undefined, {
        retryable: false,
      });
    }
  }

  #queue(name: string): MemoryQueue {
    let queue = this.#queues.get(name);
    if (queue === undefined) {
      queue = {
        name,
        patterns: [],
        messages: [],
        consumers: [],
        deadLetters: [],
        retryTimers: new Set(),
        next: 0,
      };
      this.#queues.set(name, queue);
    }
    return queue;
  }

  /** Hands waiting messages to consumers with a free slot, round robin. */
  #dispatch(queue: MemoryQueue): void {
    while (!this.#closed && queue.messages.length > 0) {
      const consumer = this.#pickConsumer(queue);
      if (consumer === undefined) return;
      const delivery = queue.messages.shift()!;
      const run: Promise<void> = consumer.gate
        .run(() => consumer.handler(delivery))
        .then(
          (outcome) => {
            this.#inFlight.delete(run);
            try {
              this.#settle(queue, consumer, delivery, outcome);
            } finally {
              this.#dispatch(queue);
            }
          },
          (error: unknown) => {
            this.#inFlight.delete(run);
            // Our own failure (e.g. an inbox that threw), not the handler's: keep the message.
            this.#events.emit('error', error instanceof Error ? error : new Error(String(error)));
            queue.messages.unshift(delivery);
            this.#dispatch(queue);
          },
        );
      this.#inFlight.add(run);
    }
  }

  /** The queues bound to `routingKey`, higher-priority subscriptions first when several match. */
  #route(routingKey: string): MemoryQueue[] {
    let targets = this.#routes.get(routingKey);
    if (targets === undefined) {
      targets = [...this.#queues.values()].filter((q) => q.patterns.some((s) => s.matches(routingKey)));
      targets.sort((a, b) => topPriority(b) - topPriority(a));
      // Bounded: a stream of distinct routing keys must not grow this without end.
      if (this.#routes.size >= MAX_ROUTES) this.#routes.clear();
      this.#routes.set(routingKey, targets);
    }
    return targets;
  }

  #pickConsumer(queue: MemoryQueue): Consumer | undefined {
    const n = queue.consumers.length;
    for (let i = 0; i < n; i++) {
      const consumer = queue.consumers[(queue.next + i) % n]!;
      if (consumer.gate.hasCapacity) {
        queue.next = (queue.next + i + 1) % n;
        return consumer;
      }
    }
    return undefined;
  }

  #settle(queue: MemoryQueue, consumer: Consumer, delivery: Delivery, outcome: Outcome): void {
    if (outcome.action === 'ack') return;
    if (outcome.action === 'retry') {
      if (this.#closed) return;
      const retry: Delivery = {
        ...delivery,
        attempt: delivery.attempt + 1,
        firstFailureAt: outcome.firstFailureAt,
      };
      const timer = this.#clock.setTimeout(
        () => {
          queue.retryTimers.delete(timer);
          queue.messages.push(retry);
          this.#dispatch(queue);
        },
        consumer.spec.retryDelays[outcome.retryIndex]!,
        true,
      );
      queue.retryTimers.add(timer);
      return;
    }
    if (!consumer.spec.deadLetter) {
      this.#logger.error('event dropped after its retries (deadLetterQueue: false)', {
        queue: queue.name,
        routingKey: delivery.routingKey,
        error: outcome.error,
      });
      return;
    }
    queue.deadLetters.push(toDeadLetter(queue.name, delivery.body, delivery.routingKey, outcome));
  }
}

function topPriority(queue: MemoryQueue): number {
  return queue.patterns.reduce((max, s) => Math.max(max, s.priority), 0);
}
