import { parseOptions } from '@clone/service-errors';
import {
  type Attributes,
  context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { z } from 'zod';
import { extractTraceContext, injectTraceHeaders } from './header-propagation';
import { type InstrumentationOptions, parseInstrumentationOptions } from './instrumentation-options';
import { AttributeKeys as A } from './metric-names';
import { resolveTracer } from './providers';
import { OK_STATUS } from './span-status';

/** What {@link traceEventBus} reads of an event: the fields of an `EventEnvelope` it names spans by. */
export interface TracedEvent {
  readonly id: string;
  readonly type: string;
  readonly correlationId: string;
}

/**
 * The context-propagation hook an `EventBus` (`@clone/event-bus`) takes: the same shape as its
 * `ContextPropagation`, restated here so this package does not depend on the bus.
 */
export interface EventPropagationHook {
  publish<T>(headers: Record<string, string>, event: TracedEvent, send: () => Promise<T>): Promise<T>;
  consume<T>(
    headers: Readonly<Record<string, string>>,
    event: TracedEvent,
    queue: string,
    handle: () => T,
  ): T;
}

/** What {@link traceEventBus} needs of an `EventBus`: the hook's installation, returning its removal. */
export interface TracedEventBusSource {
  useContextPropagation(hook: EventPropagationHook): () => void;
}

/** Options of {@link traceEventBus}: the instrumentation options and the broker's `messaging.system`. */
export type TraceEventBusOptions = InstrumentationOptions & {
  /** `messaging.system` of the spans (default `rabbitmq`, the bus's broker). */
  system?: string | undefined;
};

// OTel messaging semantic conventions (v1.27+) attribute names.
const M = {
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  subscription: 'messaging.destination.subscription.name',
  operationName: 'messaging.operation.name',
  operationType: 'messaging.operation.type',
  messageId: 'messaging.message.id',
  conversationId: 'messaging.message.conversation_id',
} as const;

const systemSchema = z.object({
  system: z.string().min(1, { error: 'must be a non-empty string' }).default('rabbitmq'),
});

/**
 * Carries the W3C trace context and baggage of each published event to its handlers through the
 * globally registered propagator (the one that serves gRPC metadata and HTTP headers), in the
 * envelope, so it survives retries, dead letters and the outbox. With a tracer (the global
 * provider or `options.tracerProvider`), each publish is a PRODUCER span `publish <type>` whose
 * context the event carries, and each handler run a CONSUMER span `process <type>`, its child,
 * with the handler's calls inside it. Without an SDK only the context travels. Installs the bus's
 * one propagation hook; returns its removal. Bad options throw BAD_REQUEST naming the field.
 */
export function traceEventBus(bus: TracedEventBusSource, options?: TraceEventBusOptions): () => void {
  const { system, ...rest } = options ?? {};
  const parsed = parseInstrumentationOptions(rest, 'traceEventBus');
  const { system: messagingSystem } = parseOptions(systemSchema, { system }, 'traceEventBus');
  const tracer = resolveTracer(parsed);
  const hook = tracer === undefined ? propagateOnly : tracingHook(tracer, messagingSystem, parsed.name);
  return bus.useContextPropagation(hook);
}

/** The hook without a tracer: the active context goes out, the received one comes in. */
const propagateOnly: EventPropagationHook = {
  publish(headers, _event, send) {
    injectTraceHeaders(headers);
    return send();
  },
  consume(headers, _event, _queue, handle) {
    return context.with(extractTraceContext(headers, ROOT_CONTEXT), handle);
  },
};

function tracingHook(tracer: Tracer, system: string, busName: string | undefined): EventPropagationHook {
  const attributes = (event: TracedEvent, operation: 'publish' | 'process'): Attributes => ({
    [M.system]: system,
    [M.destination]: event.type,
    [M.operationName]: operation,
    [M.operationType]: operation,
    [M.messageId]: event.id,
    [M.conversationId]: event.correlationId,
    ...(busName === undefined ? {} : { [A.eventBus]: busName }),
  });
  return {
    publish(headers, event, send) {
      const parent = context.active();
      const span = tracer.startSpan(
        `publish ${event.type}`,
        { kind: SpanKind.PRODUCER, attributes: attributes(event, 'publish') },
        parent,
      );
      const inSpan = trace.setSpan(parent, span);
      // The event carries the producer span's context: the consumer span becomes its child.
      injectTraceHeaders(headers, inSpan);
      return endWhenSettled(span, () => context.with(inSpan, send));
    },
    consume(headers, event, queue, handle) {
      // A fresh root, not the active context: what the transport happens to run in (the
      // publisher's own context, on the in-memory bus) is not the event's parent.
      const parent = extractTraceContext(headers, ROOT_CONTEXT);
      const span = tracer.startSpan(
        `process ${event.type}`,
        { kind: SpanKind.CONSUMER, attributes: { ...attributes(event, 'process'), [M.subscription]: queue } },
        parent,
      );
      return endWhenSettled(span, () => context.with(trace.setSpan(parent, span), handle));
    },
  };
}

function endWith(span: Span, error: unknown): void {
  if (error === undefined) span.setStatus(OK_STATUS);
  else {
    const e = error as { code?: unknown; name?: unknown; message?: unknown };
    span.setAttribute(A.errorType, String(e?.code ?? e?.name ?? 'Error'));
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(e?.message ?? error) });
  }
  span.end();
}

/** Runs `run` and ends `span` with its outcome: at once, or when the promise it returns settles. */
function endWhenSettled<T>(span: Span, run: () => T): T {
  let result: T;
  try {
    result = run();
  } catch (error) {
    endWith(span, error);
    throw error;
  }
  if (!isThenable(result)) {
    endWith(span, undefined);
    return result;
  }
  return result.then(
    (value) => {
      endWith(span, undefined);
      return value;
    },
    (error: unknown) => {
      endWith(span, error);
      throw error;
    },
  ) as T;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}
