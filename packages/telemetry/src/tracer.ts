import { loggerOption, nonEmptyString, objectOption } from '@clone/internal';
import { type Logger, noopLogger, parseOptions } from '@clone/service-errors';
import {
  type Context,
  context,
  type Span as OtelSpan,
  type SpanAttributeValue,
  SpanKind,
  SpanStatusCode,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { z } from 'zod';
import { SCOPE_VERSION } from './providers';

const schema = z.strictObject({
  serviceName: nonEmptyString(),
  logger: loggerOption<Logger>().default(noopLogger),
  tracerProvider: objectOption<TracerProvider>(['getTracer'], 'must be a TracerProvider').optional(),
});

/** Options of {@link createTracer}. */
export type TracerOptions = z.input<typeof schema>;

/**
 * A span of the small tracer API: an OpenTelemetry span with the status given as `'ok'` or
 * `'error'`. `otel` is the span itself, for anything this API does not cover.
 */
export class TracerSpan {
  /** The OpenTelemetry span. */
  readonly otel: OtelSpan;
  /** The context whose active span this is: run work in it with `context.with`. */
  readonly context: Context;

  /** @internal */
  constructor(span: OtelSpan, parent: Context) {
    this.otel = span;
    this.context = trace.setSpan(parent, span);
  }

  /** The trace id (32 hex digits; all zeros when no SDK records). */
  get traceId(): string {
    return this.otel.spanContext().traceId;
  }

  /** Sets one attribute. */
  setAttribute(key: string, value: SpanAttributeValue): this {
    this.otel.setAttribute(key, value);
    return this;
  }

  /** Marks the span's outcome; `message` describes an error. */
  setStatus(status: 'ok' | 'error', message?: string): this {
    this.otel.setStatus(
      status === 'ok'
        ? { code: SpanStatusCode.OK }
        : { code: SpanStatusCode.ERROR, ...(message === undefined ? {} : { message }) },
    );
    return this;
  }

  /** Ends the span; later calls are ignored (by the SDK, with a diagnostic). */
  end(): void {
    this.otel.end();
  }
}

/**
 * The tracer of the design documents, a thin layer over OpenTelemetry: spans go to whatever
 * SDK the application registered (or the given `tracerProvider`), and are no-ops without one.
 * ```ts
 * const tracer = createTracer({ serviceName: 'auth-service', logger });
 * const span = tracer.startSpan('import');
 * const child = tracer.startChildSpan('db.insert', span);
 * ```
 */
export class Tracer {
  /** The service whose spans these are (`service.name` on each span). */
  readonly serviceName: string;
  /** The logger given at creation. */
  readonly logger: Logger;
  readonly #tracer: ReturnType<TracerProvider['getTracer']>;

  constructor(options: TracerOptions) {
    const o = parseOptions(schema, options, 'createTracer');
    this.serviceName = o.serviceName;
    this.logger = o.logger;
    this.#tracer = (o.tracerProvider ?? trace.getTracerProvider()).getTracer(o.serviceName, SCOPE_VERSION);
  }

  /**
   * Starts a span, a child of `parent` (a context) or of the active context. `kind` defaults to
   * INTERNAL.
   */
  startSpan(name: string, options: { parent?: Context; kind?: SpanKind } = {}): TracerSpan {
    const parent = options.parent ?? context.active();
    const span = this.#tracer.startSpan(
      name,
      { kind: options.kind ?? SpanKind.INTERNAL, attributes: { 'service.name': this.serviceName } },
      parent,
    );
    return new TracerSpan(span, parent);
  }

  /** Starts a span whose parent is `parent` (undefined: the active context's span, if any). */
  startChildSpan(name: string, parent: TracerSpan | undefined): TracerSpan {
    return this.startSpan(name, parent === undefined ? {} : { parent: parent.context });
  }

  /** Runs `fn` with `span` active, so what it starts (calls, child spans) is the span's child. */
  withSpan<T>(span: TracerSpan, fn: () => T): T {
    return context.with(span.context, fn);
  }
}

/** Creates a {@link Tracer}. A bad option throws BAD_REQUEST naming it. */
export function createTracer(options: TracerOptions): Tracer {
  return new Tracer(options);
}
