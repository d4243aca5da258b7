import type { DeadLetter, DeadLetterError, DeadLetterReason } from './dead-letter';
import type { SubscriptionSpec } from './subscription';

/** One message handed by a transport to the consumer. */
export interface Delivery {
  /** The body as received (JSON of an envelope, unless something else was published). */
  readonly body: string;
  readonly routingKey: string;
  /** 1 for the first handling, n+1 after n failures. */
  readonly attempt: number;
  /** When the first attempt failed, ISO 8601; undefined on the first attempt. */
  readonly firstFailureAt: string | undefined;
}

/** What the consumer decided for a delivery; the transport carries it out. */
export type Outcome =
  | { readonly action: 'ack' }
  | {
      readonly action: 'retry';
      /** Index into the subscription's `retryDelays`. */
      readonly retryIndex: number;
      readonly error: DeadLetterError;
      readonly firstFailureAt: string;
    }
  | {
      readonly action: 'dead';
      readonly reason: DeadLetterReason;
      readonly error: DeadLetterError;
      readonly attempts: number;
      readonly firstFailureAt: string | undefined;
    };

/** How the bus hands a transport the deliveries of one subscription. */
export type DeliveryHandler = (delivery: Delivery) => Promise<Outcome>;

/** What a transport tells the bus about its connection. */
export interface TransportEvents {
  connected: undefined;
  disconnected: { error: Error | undefined };
  error: Error;
}

/**
 * The small interface between the bus and where events travel: the in-memory transport and the
 * RabbitMQ one implement it, and one contract suite runs against both. The bus does everything
 * that is the same for both (validation, dedupe, filters, stats, retry decisions); a transport
 * stores, routes and redelivers.
 */
export interface EventTransport {
  /** Connects (idempotent). Rejects with SERVICE_UNAVAILABLE when the first attempt fails; keeps trying after. */
  connect(): Promise<void>;
  isConnected(): boolean;
  /**
   * Resolves once the event is stored durably for every queue bound to it. `headers` name the
   * event (`x-event-id`, `x-correlation-id`, `x-source`); RabbitMQ carries them as AMQP properties.
   */
  publish(routingKey: string, body: string, headers: Record<string, string>): Promise<void>;
  /** Starts consuming a subscription (and again after every reconnect) until close. */
  consume(spec: SubscriptionSpec, handler: DeliveryHandler): Promise<void>;
  /** The dead letters of the given subscription queues, oldest first (does not remove them). */
  deadLetters(queues: readonly string[]): Promise<DeadLetter[]>;
  /** Removes the dead letters of the given queues; resolves how many were removed. */
  clearDeadLetters(queues: readonly string[]): Promise<number>;
  /** Puts dead letters (all, or those of one event id) back on their queues as first attempts. */
  replayDeadLetters(queues: readonly string[], eventId: string | undefined): Promise<number>;
  /** Events waiting for a retry in the given queues. */
  retryQueueSize(queues: readonly string[]): Promise<number>;
  /** Stops consuming, waits for in-flight handlers up to `timeoutMs`, and closes. */
  close(timeoutMs: number): Promise<void>;
  /** Connection events; returns an unsubscribe. */
  on<K extends keyof TransportEvents>(event: K, listener: (payload: TransportEvents[K]) => void): () => void;
}
