import type { Attributes } from '@opentelemetry/api';
import { type InstrumentationOptions, parseInstrumentationOptions } from './instrumentation-options';
import { AttributeKeys as A, MetricNames as M } from './metric-names';
import { resolveMeter } from './providers';

/** What {@link instrumentEventBus} reads of an `EventBus` (`@clone/event-bus`): its counters. */
export interface EventBusSource {
  getStats(): {
    publishedEvents: number;
    totalEvents: number;
    failedEvents: number;
    retriedEvents: number;
    deadLetteredEvents: number;
    duplicateEvents: number;
  };
}

/**
 * Records an event bus's published, handled, failed, retried, dead-lettered and duplicate
 * events as observable counters read from `getStats()` at each collection: the bus already
 * counts them per event, so instrumenting adds nothing to its publish or delivery path.
 * `options.name` names the bus (`clone.events.bus`, default `default`).
 */
export function instrumentEventBus(bus: EventBusSource, options?: InstrumentationOptions): () => void {
  const parsed = parseInstrumentationOptions(options, 'instrumentEventBus');
  const meter = resolveMeter(parsed);
  if (meter === undefined) return () => {};
  const attributes: Attributes = { [A.eventBus]: parsed.name ?? 'default' };
  const counters = [
    [M.eventsPublished, 'Events confirmed published', 'publishedEvents'],
    [M.eventsHandled, 'Handler runs', 'totalEvents'],
    [M.eventsFailed, 'Handler runs that threw', 'failedEvents'],
    [M.eventsRetried, 'Retries scheduled after a handler failure', 'retriedEvents'],
    [M.eventsDeadLettered, 'Events sent to the dead letter queue', 'deadLetteredEvents'],
    [M.eventsDuplicates, 'Deliveries absorbed by the inbox', 'duplicateEvents'],
  ] as const;
  const observables = counters.map(([name, description]) =>
    meter.createObservableCounter(name, { description }),
  );
  const observe = (result: {
    observe(o: (typeof observables)[number], value: number, a: Attributes): void;
  }): void => {
    const stats = bus.getStats();
    for (const [i, [, , field]] of counters.entries())
      result.observe(observables[i]!, stats[field], attributes);
  };
  meter.addBatchObservableCallback(observe, observables);
  return () => meter.removeBatchObservableCallback(observe, observables);
}
