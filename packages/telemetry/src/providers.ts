import {
  createNoopMeter,
  type Meter,
  type MeterProvider,
  metrics,
  ProxyTracerProvider,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';

/** The instrumentation scope every @clone instrument and span is recorded under. */
export const SCOPE_NAME = '@clone/telemetry';
/** This package's version, recorded as the instrumentation scope's version. */
export const SCOPE_VERSION = '0.1.0';

/** Which providers to record through; default the globally registered ones. */
export interface ProviderOptions {
  /** Default: the global meter provider (`metrics.setGlobalMeterProvider`, or the NodeSDK's). */
  meterProvider?: MeterProvider | undefined;
  /** Default: the global tracer provider. */
  tracerProvider?: TracerProvider | undefined;
}

// The API's no-op classes are not exported; a fresh proxy provider delegates to the no-op tracer,
// and createNoopMeter() is the no-op meter, so their constructors identify "no SDK".
const NoopMeter = createNoopMeter().constructor;
const NoopTracer = new ProxyTracerProvider().getDelegate().getTracer('noop').constructor;

/**
 * The meter to record through, or `undefined` when no SDK is registered. Metrics have no proxy
 * in the OTel API (a meter taken before the SDK registers stays a no-op), so instrumentation is
 * set up after the SDK, and when there is none it subscribes to nothing: zero cost per call.
 */
export function resolveMeter(options: ProviderOptions): Meter | undefined {
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE_NAME, SCOPE_VERSION);
  return meter.constructor === NoopMeter ? undefined : meter;
}

/**
 * The tracer to record through, or `undefined` when no SDK is registered, decided once so the
 * per-call path tests one field instead of making non-recording spans.
 */
export function resolveTracer(options: ProviderOptions): Tracer | undefined {
  const provider = options.tracerProvider ?? trace.getTracerProvider();
  const delegate = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
  const tracer = delegate.getTracer(SCOPE_NAME, SCOPE_VERSION);
  return tracer.constructor === NoopTracer ? undefined : tracer;
}
