import type { ServiceError } from '@clone/service-errors';
import {
  type Attributes,
  type Context,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { CommunicationEvents } from './communication-metrics';
import {
  type EventSource,
  type InstrumentationOptions,
  parseInstrumentationOptions,
  unsubscribeAll,
} from './instrumentation-options';
import { AttributeKeys as A } from './metric-names';
import { resolveTracer } from './providers';
import { OK_STATUS } from './span-status';

/**
 * The span of one `executeServiceCall`: what the manager's call path asks of its telemetry
 * hook. `run` runs the policies inside the span's context, so each attempt's gRPC call (the
 * client interceptor's span) is its child; `end` closes it with the outcome.
 */
export interface CallScope {
  run<T>(fn: () => T): T;
  end(error: ServiceError | undefined, attempts: number): void;
}

/** The hook a `ServiceCommunicationManager` calls per call; `undefined` when not tracing. */
export interface CallTelemetry {
  startCall(service: string, method?: string): CallScope | undefined;
  /** Stops adding breaker and retry events to spans. */
  stop(): void;
}

/** What {@link traceCommunication} needs of a `ServiceCommunicationManager`. */
export interface TracedCommunicationSource extends EventSource<CommunicationEvents> {
  /** Installs the per-call hook (a manager that has it); returns its removal. */
  useCallTelemetry?(hook: CallTelemetry): () => void;
}

/**
 * Traces a `ServiceCommunicationManager`: returns the per-call hook ({@link CallTelemetry}:
 * a span `<service> call` around the policies, retries included), and adds the manager's
 * breaker transitions, open-circuit rejections and scheduled retries as events of the span
 * active when they happen (the call's). A manager with `useCallTelemetry` gets the hook
 * installed, so every `executeServiceCall` is traced. Without an SDK `startCall` returns
 * `undefined` and nothing is added.
 */
export function traceCommunication(
  source: TracedCommunicationSource,
  options?: InstrumentationOptions,
): CallTelemetry {
  const tracer = resolveTracer(parseInstrumentationOptions(options, 'traceCommunication'));
  if (tracer === undefined) return { startCall: () => undefined, stop() {} };
  const names = new CallNames();
  const telemetry: CallTelemetry = {
    startCall: (service, method) => new TracedCall(tracer, names.of(service, method)),
    stop: () => stop(),
  };
  const stop = unsubscribeAll([
    // A manager with the per-call hook gets it installed; without it, callers use startCall.
    ...(typeof source.useCallTelemetry === 'function' ? [source.useCallTelemetry(telemetry)] : []),
    source.on('circuitStateChange', (e) =>
      trace.getActiveSpan()?.addEvent('circuit.state_change', {
        [A.rpcService]: e.service,
        [A.circuitFrom]: e.from,
        [A.circuitTo]: e.to,
        'clone.circuit.reason': e.reason,
      }),
    ),
    source.on('circuitRejected', (e) =>
      trace.getActiveSpan()?.addEvent('circuit.rejected', { [A.rpcService]: e.service }),
    ),
    source.on('retry', (e) =>
      trace.getActiveSpan()?.addEvent('retry', {
        'clone.attempt': e.attempt,
        'clone.retry.delay_ms': e.delayMs,
        [A.errorType]: e.error.code,
      }),
    ),
  ]);
  return telemetry;
}

/** A call span's name and attributes, made once per service and method. */
interface CallName {
  readonly name: string;
  readonly attributes: Attributes;
}

/**
 * The names and attribute sets of the call spans, per service and method: the SDK copies the
 * attributes it is given, so one frozen set serves every call, and no name is built per call.
 */
class CallNames {
  readonly #byService = new Map<string, CallName>();
  readonly #byMethod = new Map<string, Map<string, CallName>>();

  of(service: string, method: string | undefined): CallName {
    if (method === undefined) {
      let entry = this.#byService.get(service);
      if (entry === undefined) {
        entry = callName(`${service} call`, service, undefined);
        if (this.#byService.size < MAX_NAMES) this.#byService.set(service, entry);
      }
      return entry;
    }
    let methods = this.#byMethod.get(service);
    if (methods === undefined) {
      methods = new Map();
      if (this.#byMethod.size < MAX_NAMES) this.#byMethod.set(service, methods);
    }
    let entry = methods.get(method);
    if (entry === undefined) {
      entry = callName(`${service}.${method} call`, service, method);
      if (methods.size < MAX_NAMES) methods.set(method, entry);
    }
    return entry;
  }
}

// Service and method names come from code, not input; the bound only keeps a bug from growing it.
const MAX_NAMES = 10_000;

function callName(name: string, service: string, method: string | undefined): CallName {
  const attributes: Attributes = { [A.rpcSystem]: 'grpc', [A.rpcService]: service };
  if (method !== undefined) attributes[A.rpcMethod] = method;
  return { name, attributes: Object.freeze(attributes) };
}

/** One call's span. A class rather than closures: it is made on every call. */
class TracedCall implements CallScope {
  readonly #span: Span;
  readonly #context: Context;

  constructor(tracer: Tracer, call: CallName) {
    const parent = context.active();
    this.#span = tracer.startSpan(
      call.name,
      { kind: SpanKind.INTERNAL, attributes: call.attributes },
      parent,
    );
    this.#context = trace.setSpan(parent, this.#span);
  }

  run<T>(fn: () => T): T {
    return context.with(this.#context, fn);
  }

  end(error: ServiceError | undefined, attempts: number): void {
    const span = this.#span;
    span.setAttribute('clone.attempts', attempts);
    if (error === undefined) span.setStatus(OK_STATUS);
    else {
      span.setAttribute(A.errorType, error.code);
      span.setAttribute(A.grpcStatusCode, error.grpcStatus);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    }
    span.end();
  }
}
