/**
 * The OpenTelemetry SDK of one demo process: the async-hooks context manager, the W3C
 * trace-context + baggage propagator and a tracer provider, registered globally as an
 * application does, so @clone/telemetry's instrumentation (which uses the API only) records.
 * Finished spans go to `<dir>/<service>-<pid>.jsonl` ({@link SpanFileExporter}). In-process
 * services get a provider of their own from {@link DemoTracing.providerFor}, so their spans carry
 * their own `service.name` while sharing the process's context and propagator.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SpanFileExporter } from './span-file-exporter';

/** A process's tracing. */
export interface DemoTracing {
  /** The directory every process of the run writes its spans to. */
  readonly dir: string;
  /** The process's provider, registered globally. */
  readonly tracerProvider: BasicTracerProvider;
  /** A provider for a service run inside this process (its spans named after it). */
  providerFor(serviceName: string): BasicTracerProvider;
  /** Shuts the providers down (flushing them) and unregisters the globals. */
  shutdown(): Promise<void>;
}

/** Makes a fresh directory for a run's spans; remove it with {@link removeTraceDir}. */
export function makeTraceDir(): string {
  return mkdtempSync(join(tmpdir(), 'clone-traces-'));
}

/** Removes a run's span directory. */
export function removeTraceDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

function provider(serviceName: string, file: string): BasicTracerProvider {
  return new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    // Simple, not batched: a span is on disk when it ends (see SpanFileExporter).
    spanProcessors: [new SimpleSpanProcessor(new SpanFileExporter(file))],
  });
}

/**
 * Registers the SDK for this process, as `serviceName`, writing to `dir`. Call it before
 * anything is instrumented: @clone/telemetry decides once, when an instrumentation is made,
 * whether an SDK is there.
 */
export function startTracing(options: { serviceName: string; dir: string }): DemoTracing {
  const { dir, serviceName } = options;
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  const main = provider(serviceName, join(dir, `${serviceName}-${process.pid}.jsonl`));
  trace.setGlobalTracerProvider(main);
  const others: BasicTracerProvider[] = [];
  return {
    dir,
    tracerProvider: main,
    providerFor(name) {
      const p = provider(name, join(dir, `${name}-${process.pid}.jsonl`));
      others.push(p);
      return p;
    },
    async shutdown() {
      await Promise.all([main, ...others.splice(0)].map((p) => p.shutdown()));
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}
