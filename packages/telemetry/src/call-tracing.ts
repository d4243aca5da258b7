import type { ServiceError } from '@clone/service-errors';
import {
  type Attributes,
  type Context,
  context,
  propagation,
  type Span,
  SpanKind,
  type SpanOptions,
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
import { carrierSetter, RpcSpan, startRpcSpan, type TraceCarrier } from './rpc-span';
import { OK_STATUS } from './span-status';

/**
 * The span of one `executeServiceCall`: what the manager's call path asks of its telemetry
 * hook. `run` runs the policies inside the span's context, so each attempt's gRPC call is its
 * child; `end` closes it with the outcome and names it after the method the call made.
 */
export interface CallScope {
  run<T>(fn: () => T): T;
  end(error: ServiceError | undefined, attempts: number, method?: string): void;
}

/**
 * The hook a `ServiceCommunicationManager` calls per call (`startCall`) and per gRPC call of
 * its clients (`startRpc`); each returns `undefined` when not tracing.
 */
export interface CallTelemetry {
  startCall(service: string): CallScope | undefined;
  startRpc(path: string, metadata: TraceCarrier): { end(code: number, details: string): void } | undefined;
  /** Uninstalls the hook from the manager and stops adding breaker and retry events to spans. */
  stop(): void;
}

/** What {@link traceCommunication} needs of a `ServiceCommunicationManager`. */
export interface TracedCommunicationSource extends EventSource<CommunicationEvents> {
  /** Installs the tracing hook (a manager that has it); returns its removal. */
  useCallTelemetry?(hook: CallTelemetry): () => void;
}

/**
 * Traces a `ServiceCommunicationManager`: returns its hook ({@link CallTelemetry}): a span
 * `<service>.<method> call` around the policies of each `executeServiceCall`, retries included,
 * and a CLIENT span per gRPC call of the manager's clients (each attempt: a child of the call's
 * span, `<package.Service>/<Method>`, its trace context in the call's metadata), made in the
 * interceptor those calls already run, so no `tracingClientInterceptor` is needed (or added:
 * it would leave these calls alone). The manager's breaker transitions, open-circuit rejections
 * and scheduled retries become events of the span active when they happen (the call's). A
 * manager with `useCallTelemetry` gets the hook installed. Without an SDK there are no spans:
 * with no propagator registered nothing is installed at all, and with one the installed hook
 * only writes the active context (baggage, a remote parent) into each call's metadata.
 */
export function traceCommunication(
  source: TracedCommunicationSource,
  options?: InstrumentationOptions,
): CallTelemetry {
  const tracer = resolveTracer(parseInstrumentationOptions(options, 'traceCommunication'));
  if (tracer === undefined) {
    // No spans, and with no propagator nothing at all (not even a hook: zero cost per call).
    // With one, the calls still carry the context (baggage, a remote parent). Decided once.
    if (propagation.fields().length === 0)
      return { startCall: () => undefined, startRpc: () => undefined, stop() {} };
    const propagating: CallTelemetry = {
      startCall: () => undefined,
      startRpc: (_path, metadata) => {
        propagation.inject(context.active(), metadata, carrierSetter);
        return undefined;
      },
      stop: () => remove(),
    };
    const remove =
      typeof source.useCallTelemetry === 'function' ? source.useCallTelemetry(propagating) : () => {};
    return propagating;
  }
  const names = new CallNames();
  const telemetry: CallTelemetry = {
    startCall: (service) => new TracedCall(tracer, names.of(service)),
    startRpc: (path, metadata) => new RpcSpan(startRpcSpan(tracer, path, metadata)),
    stop: () => stop(),
  };
  const stop = unsubscribeAll([
    // A manager with the hook gets it installed; without it, callers use startCall themselves.
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
class CallName {
  readonly name: string;
  /** The span's options (kind and attributes), one frozen object for every call. */
  readonly options: SpanOptions;
  readonly #service: string;
  readonly #methods: Map<string, CallName> | undefined;

  constructor(service: string, method: string | undefined) {
    this.#service = service;
    this.name = method === undefined ? `${service} call` : `${service}.${method} call`;
    const attributes: Attributes = { [A.rpcSystem]: 'grpc', [A.rpcService]: service };
    if (method !== undefined) attributes[A.rpcMethod] = method;
    this.options = Object.freeze({ kind: SpanKind.INTERNAL, attributes: Object.freeze(attributes) });
    this.#methods = method === undefined ? new Map() : undefined;
  }

  /** The name of the service's call that made `method` (made once per method). */
  withMethod(method: string): CallName {
    const methods = this.#methods!;
    let entry = methods.get(method);
    if (entry === undefined) {
      entry = new CallName(this.#service, method);
      if (methods.size < MAX_NAMES) methods.set(method, entry);
    }
    return entry;
  }
}

/**
 * The names and attribute sets of the call spans, per service and method: the SDK copies the
 * attributes it is given, so one frozen set serves every call, and no name is built per call.
 */
class CallNames {
  readonly #byService = new Map<string, CallName>();

  of(service: string): CallName {
    let entry = this.#byService.get(service);
    if (entry === undefined) {
      entry = new CallName(service, undefined);
      if (this.#byService.size < MAX_NAMES) this.#byService.set(service, entry);
    }
    return entry;
  }
}

// Service and method names come from code, not input; the bound only keeps a bug from growing it.
const MAX_NAMES = 10_000;

/** One call's span. A class rather than closures: it is made on every call. */
class TracedCall implements CallScope {
  readonly #span: Span;
  readonly #context: Context;
  readonly #call: CallName;

  constructor(tracer: Tracer, call: CallName) {
    this.#call = call;
    const parent = context.active();
    this.#span = tracer.startSpan(call.name, call.options, parent);
    this.#context = trace.setSpan(parent, this.#span);
  }

  run<T>(fn: () => T): T {
    return context.with(this.#context, fn);
  }

  end(error: ServiceError | undefined, attempts: number, method?: string): void {
    const span = this.#span;
    // The method is known once a gRPC call was made: the span is started before, named now.
    if (method !== undefined) {
      span.updateName(this.#call.withMethod(method).name);
      span.setAttribute(A.rpcMethod, method);
    }
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
