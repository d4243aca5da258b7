import { type Clock, ServiceError, ServiceErrorCode } from '@clone/service-errors';

/** One publish until the broker confirms it. */
export interface PendingPublish {
  readonly routingKey: string;
  readonly content: Buffer;
  readonly headers: Record<string, string>;
  /** The session it was last sent on; undefined while parked. */
  session: object | undefined;
  resolve(): void;
  reject(error: Error): void;
  timer: unknown;
  done: boolean;
}

/**
 * The publishes not yet confirmed: parked ones (waiting for a connection, at most
 * `maxBufferedPublishes` new ones, beyond which a publish fails fast with SERVICE_UNAVAILABLE
 * instead of growing memory or being dropped) and sent ones (waiting for the confirm). A sent one
 * whose connection dies goes back to the front of the parked ones and is sent again after the
 * reconnect: the broker may have stored it or not, and a duplicate is absorbed by the consumers'
 * inbox whereas a loss is not. Each has one deadline, `publishTimeoutMs`, buffered time included.
 */
export class PublishBuffer {
  readonly #max: number;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  #parked: PendingPublish[] = [];
  readonly #unconfirmed = new Set<PendingPublish>();
  #drained: (() => void)[] = [];

  constructor(config: { maxBufferedPublishes: number; publishTimeoutMs: number; clock: Clock }) {
    this.#max = config.maxBufferedPublishes;
    this.#timeoutMs = config.publishTimeoutMs;
    this.#clock = config.clock;
  }

  /** Publishes parked now. */
  get parked(): number {
    return this.#parked.length;
  }

  /** Creates a pending publish and hands it to `send`, which sends it or parks it. */
  add(
    routingKey: string,
    content: Buffer,
    headers: Record<string, string>,
    send: (p: PendingPublish) => void,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const pending: PendingPublish = {
        routingKey,
        content,
        headers,
        session: undefined,
        resolve,
        reject,
        timer: undefined,
        done: false,
      };
      pending.timer = this.#clock.setTimeout(
        () =>
          this.#finish(
            pending,
            new ServiceError(
              ServiceErrorCode.TIMEOUT,
              `no broker confirm within ${this.#timeoutMs} ms; the event may or may not be stored (publishing it again is safe)`,
            ),
          ),
        this.#timeoutMs,
        true,
      );
      send(pending);
    });
  }

  /** Holds a publish until the next connection; a new one is refused when the buffer is full. */
  park(pending: PendingPublish): void {
    if (pending.done) return;
    if (this.#parked.length >= this.#max) {
      this.#finish(
        pending,
        new ServiceError(
          ServiceErrorCode.SERVICE_UNAVAILABLE,
          `RabbitMQ is unreachable and ${this.#max} publishes are already waiting (maxBufferedPublishes)`,
        ),
      );
      return;
    }
    pending.session = undefined;
    this.#parked.push(pending);
  }

  /** Records that `pending` went out on `session`. */
  sent(pending: PendingPublish, session: object): void {
    pending.session = session;
    this.#unconfirmed.add(pending);
  }

  /** The broker's answer for `pending` as sent on `session`; an error sends it again. */
  confirmed(
    pending: PendingPublish,
    session: object,
    error: unknown,
    resend: (p: PendingPublish) => void,
  ): void {
    // Already moved back to the parked ones by a lost connection: this answer is stale.
    if (pending.session !== session || pending.done) return;
    this.#unconfirmed.delete(pending);
    if (error) {
      pending.session = undefined;
      this.#parked.unshift(pending);
      resend(this.#parked.shift()!);
    } else this.#finish(pending, undefined);
    this.#notifyDrained();
  }

  /** Sends every parked publish, oldest first (after a reconnect). */
  flush(send: (p: PendingPublish) => void): void {
    const parked = this.#parked;
    this.#parked = [];
    for (const pending of parked) if (!pending.done) send(pending);
  }

  /** Moves the sent-but-unconfirmed publishes back to the front of the parked ones. */
  requeueUnconfirmed(): void {
    const unconfirmed = [...this.#unconfirmed].filter((p) => !p.done);
    this.#unconfirmed.clear();
    for (const p of unconfirmed) p.session = undefined;
    this.#parked = [...unconfirmed, ...this.#parked];
    this.#notifyDrained();
  }

  /** Resolves once no sent publish waits for its confirm. */
  whenConfirmed(): Promise<void> {
    if (this.#unconfirmed.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /** Fails every pending publish (the bus is closing). */
  rejectAll(error: Error): void {
    for (const p of [...this.#parked, ...this.#unconfirmed]) this.#finish(p, error);
    this.#parked = [];
    this.#unconfirmed.clear();
    this.#notifyDrained();
  }

  #finish(pending: PendingPublish, error: Error | undefined): void {
    if (pending.done) return;
    pending.done = true;
    this.#clock.clearTimeout(pending.timer);
    this.#unconfirmed.delete(pending);
    const at = this.#parked.indexOf(pending);
    if (at >= 0) this.#parked.splice(at, 1);
    if (error) pending.reject(error);
    else pending.resolve();
  }

  #notifyDrained(): void {
    if (this.#unconfirmed.size > 0) return;
    for (const resolve of this.#drained.splice(0)) resolve();
  }
}
