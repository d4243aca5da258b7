/** What a bus has done since it was created (this process only). */
export interface EventBusStats {
  /** Events handed to a handler (each attempt counts). */
  totalEvents: number;
  /** `totalEvents` by event type. */
  eventsByType: Record<string, number>;
  /** Handler attempts that threw. */
  failedEvents: number;
  /** Mean handler run time in ms. */
  averageProcessingTime: number;
  /** Events confirmed published. */
  publishedEvents: number;
  /** Deliveries skipped because the inbox had handled the event already. */
  duplicateEvents: number;
  /** Retries scheduled after a handler failure. */
  retriedEvents: number;
  /** Events this process sent to a dead letter queue. */
  deadLetteredEvents: number;
}

/** The counters behind {@link EventBusStats}; plain fields, as they are bumped per event. */
export class EventStats {
  totalEvents = 0;
  failedEvents = 0;
  publishedEvents = 0;
  duplicateEvents = 0;
  retriedEvents = 0;
  deadLetteredEvents = 0;
  #processingTimeMs = 0;
  readonly #byType = new Map<string, number>();

  /** Records one handler run of an event of `type` that took `ms`. */
  handled(type: string, ms: number, failed: boolean): void {
    this.totalEvents++;
    this.#byType.set(type, (this.#byType.get(type) ?? 0) + 1);
    this.#processingTimeMs += ms;
    if (failed) this.failedEvents++;
  }

  snapshot(): EventBusStats {
    return {
      totalEvents: this.totalEvents,
      eventsByType: Object.fromEntries(this.#byType),
      failedEvents: this.failedEvents,
      averageProcessingTime: this.totalEvents === 0 ? 0 : this.#processingTimeMs / this.totalEvents,
      publishedEvents: this.publishedEvents,
      duplicateEvents: this.duplicateEvents,
      retriedEvents: this.retriedEvents,
      deadLetteredEvents: this.deadLetteredEvents,
    };
  }
}
