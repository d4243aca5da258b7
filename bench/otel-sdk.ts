// The OpenTelemetry SDK the benches' "with SDK" rows register, shared by bench:grpc and
// bench:policies so both measure against the same setup.
import { context, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

/** A metric reader nobody collects from: the SDK aggregates every recording, as for an exporter. */
class HeldReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/**
 * The SDK an application would register: metrics aggregated, spans through a batch processor to
 * an exporter that drops them. Passed explicitly, so the "no SDK" rows of the same run stay
 * without one. The context manager and W3C propagator are global, as in an application.
 */
export function otelSdk() {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  const meterProvider = new MeterProvider({ readers: [new HeldReader()] });
  const exporter = {
    export: (_spans: unknown, done: (r: { code: number }) => void) => done({ code: 0 }),
    shutdown: async () => {},
  };
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
  return {
    meterProvider,
    tracerProvider,
    shutdown: () => Promise.all([meterProvider.shutdown(), tracerProvider.shutdown()]),
  };
}
