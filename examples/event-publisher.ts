/**
 * Publishes events in the background, so a conversation never waits for the broker: while it is
 * down the bus holds the publish until it is back. A publish that still fails (no confirm within
 * the bus's `publishTimeoutMs`, or its buffer full) is sent again, the same event with the same
 * id: if the first one was stored after all, the consumers' inboxes absorb the duplicate.
 */

import type { EventBus, EventEnvelope } from '@clone/event-bus';
import { RetryPolicy, ServiceError } from '@clone/service-errors';

/** How one background publish ended. */
export type PublishOutcome =
  | { ok: true; attempts: number; durationMs: number }
  | { ok: false; attempts: number; durationMs: number; error: ServiceError };

export interface BackgroundPublisherOptions {
  /** Publishes of one event before it counts as failed (default 3). */
  attempts?: number | undefined;
  /** Pause between them, ms (default 1000). */
  retryDelayMs?: number | undefined;
  /** Told how each publish ended, for a live view. */
  onSettled?: ((event: EventEnvelope, outcome: PublishOutcome) => void) | undefined;
}

/** Fire-and-forget publishing with retries, counted, and a `drain()` that waits for all of it. */
export class BackgroundPublisher {
  readonly #bus: EventBus;
  readonly #retry: RetryPolicy;
  readonly #onSettled: BackgroundPublisherOptions['onSettled'];
  readonly #pending = new Set<Promise<void>>();
  /** Confirmed publishes by event type. */
  readonly confirmed = new Map<string, number>();
  /** Events given up on after every attempt failed. */
  failed = 0;

  constructor(bus: EventBus, options: BackgroundPublisherOptions = {}) {
    this.#bus = bus;
    // A fixed pause between attempts; the policy's own timer keeps the process alive meanwhile,
    // so `drain()` never sees the process exit in the middle of a wait.
    this.#retry = new RetryPolicy({
      maxAttempts: options.attempts ?? 3,
      initialDelayMs: options.retryDelayMs ?? 1000,
      backoffMultiplier: 1,
      jitter: 'none',
    });
    this.#onSettled = options.onSettled;
  }

  /** Starts publishing `event`; returns at once. */
  publish(event: EventEnvelope): void {
    const running: Promise<void> = this.#deliver(event).finally(() => this.#pending.delete(running));
    this.#pending.add(running);
  }

  /** Publishes started and not yet confirmed or given up on. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Resolves once every publish started so far (and any started meanwhile) is confirmed or given up on. */
  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  async #deliver(event: EventEnvelope): Promise<void> {
    const start = performance.now();
    let attempts = 0;
    const error = await this.#retry
      .execute(({ attempt }) => {
        attempts = attempt;
        return this.#bus.publish(event);
      })
      .then(
        () => undefined,
        (thrown: unknown) => ServiceError.from(thrown),
      );
    const durationMs = performance.now() - start;
    if (error === undefined) {
      this.confirmed.set(event.type, (this.confirmed.get(event.type) ?? 0) + 1);
      this.#onSettled?.(event, { ok: true, attempts, durationMs });
    } else {
      this.failed++;
      this.#onSettled?.(event, { ok: false, attempts, durationMs, error });
    }
  }
}
