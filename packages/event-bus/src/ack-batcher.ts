/** The part of an AMQP channel the batcher uses (amqplib's `Channel`). */
export interface AckChannel {
  ack(message: { fields: { deliveryTag: number } }, allUpTo?: boolean): void;
}

/** Schedules a flush after the work queued now; returns a cancel. Injected in tests. */
export type FlushScheduler = (flush: () => void) => () => void;

const nextTurn: FlushScheduler = (flush) => {
  const immediate = setImmediate(flush);
  immediate.unref();
  return () => clearImmediate(immediate);
};

/**
 * Acknowledges the deliveries of one channel in batches: a handled delivery is marked done, and
 * once per turn of the event loop one `basic.ack` with `multiple` covers every delivery up to the
 * newest one whose predecessors are all settled (deliveries arrive in tag order); handled ones
 * after a delivery still running get their own ack. A message is still acknowledged only after
 * its handler finished. Acknowledging each one at once sends a frame and a socket write per
 * message, which cost the consumer (and the broker) more than the bus's own work per event.
 */
export class AckBatcher {
  readonly #channel: AckChannel;
  readonly #live: () => boolean;
  readonly #schedule: FlushScheduler;
  /** Delivery tags received and not yet covered by an ack, oldest first. */
  readonly #open: number[] = [];
  #head = 0;
  /** Of those, the ones settled: true when handled (to ack), false when nacked on their own. */
  readonly #settled = new Map<number, boolean>();
  #scheduled = false;
  #cancel: (() => void) | undefined;

  /** `live` tells whether the channel's connection is still up; a dead one acks nothing. */
  constructor(channel: AckChannel, live: () => boolean, schedule: FlushScheduler = nextTurn) {
    this.#channel = channel;
    this.#live = live;
    this.#schedule = schedule;
  }

  /** Records a delivery as received, before its handler runs. */
  received(tag: number): void {
    this.#open.push(tag);
  }

  /** Marks a delivery handled; it is acknowledged at the next flush. */
  done(tag: number): void {
    this.#settled.set(tag, true);
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#cancel = this.#schedule(() => this.flush());
  }

  /** Marks a delivery settled without an ack (it was nacked on its own). */
  skip(tag: number): void {
    this.#settled.set(tag, false);
  }

  /** Sends the ack for every settled delivery with no unsettled one before it; now. */
  flush(): void {
    if (this.#scheduled) {
      this.#scheduled = false;
      this.#cancel?.();
    }
    // The newest handled tag of the settled run: the ack must name a tag the broker still counts
    // as unacknowledged, which a nacked one no longer is (`multiple` covers the older ones).
    let last: number | undefined;
    while (this.#head < this.#open.length) {
      const tag = this.#open[this.#head]!;
      const handled = this.#settled.get(tag);
      if (handled === undefined) break;
      this.#settled.delete(tag);
      this.#head++;
      if (handled) last = tag;
    }
    // Keep the array from growing: drop the covered prefix once it is most of it.
    if (this.#head > 1024 && this.#head * 2 > this.#open.length) {
      this.#open.splice(0, this.#head);
      this.#head = 0;
    }
    if (last !== undefined) this.#ack(last, true);
    // Handled ones behind a delivery still running are acked on their own: held back, they would
    // keep their prefetch slots and stall the consumer behind one slow handler.
    for (const [tag, handled] of this.#settled) {
      if (!handled) continue;
      this.#ack(tag, false);
      this.#settled.set(tag, false);
    }
  }

  #ack(deliveryTag: number, allUpTo: boolean): void {
    // A dead channel returns its unacknowledged messages to the queue by itself.
    if (!this.#live()) return;
    try {
      this.#channel.ack({ fields: { deliveryTag } }, allUpTo);
    } catch {
      // closed meanwhile: the same
    }
  }
}
