// The real OpenTelemetry SDK, in memory, for the tests: a meter provider read on demand and a
// tracer provider whose finished spans are kept; the async-hooks context manager and the W3C
// propagators registered globally once, as an application's setup would.
import { context, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

let registered = false;
/** Registers the context manager and the W3C trace-context + baggage propagator (once per process). */
export function registerGlobals(): void {
  if (registered) return;
  registered = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
}

class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** A meter provider and a way to read its points by metric name. */
export function testMeters() {
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  async function points(name: string): Promise<DataPoint<number | Histogram>[]> {
    const { resourceMetrics } = await reader.collect();
    const found = resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .filter((m) => m.descriptor.name === name);
    return found.flatMap((m) => m.dataPoints as DataPoint<number | Histogram>[]);
  }
  /** The sum of a counter's (or the value of a gauge's) points whose attributes include `match`. */
  async function value(name: string, match: Record<string, unknown> = {}): Promise<number> {
    let total = 0;
    for (const p of await points(name)) {
      if (!Object.entries(match).every(([k, v]) => p.attributes[k] === v)) continue;
      total += typeof p.value === 'number' ? p.value : p.value.count;
    }
    return total;
  }
  return { meterProvider, points, value, close: () => meterProvider.shutdown() };
}

/** A tracer provider keeping finished spans in memory. */
export function testTracing() {
  registerGlobals();
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
  const byName = (name: string): ReadableSpan => {
    const span = spans().find((s) => s.name === name);
    if (span === undefined)
      throw new Error(
        `no span ${name}; have ${spans()
          .map((s) => s.name)
          .join(', ')}`,
      );
    return span;
  };
  return { tracerProvider, spans, byName, close: () => tracerProvider.shutdown() };
}

/** The parent span id of a finished span. */
export function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}
