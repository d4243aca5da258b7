import { isServiceError, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import type * as grpc from '@grpc/grpc-js';
import type { ServiceKind, ServiceTypes } from './protos';

/** Options of a promise-form unary call: grpc-js call options plus metadata and a signal. */
export interface UnaryCallOptions extends grpc.CallOptions {
  /** Extra metadata to send (the client's interceptors add theirs to it). */
  metadata?: grpc.Metadata;
  /** Cancels the call: it rejects with the abort reason (a ServiceError) or CANCELLED. */
  signal?: AbortSignal;
}

type UnarySignature = (argument: any, callback: grpc.requestCallback<any>) => grpc.ClientUnaryCall;

/** The unary methods of a generated client (PascalCase names, as in the proto). */
export type UnaryMethodName<C> = {
  [K in keyof C]: K extends string
    ? K extends Capitalize<K>
      ? C[K] extends UnarySignature
        ? K
        : never
      : never
    : never;
}[keyof C];

/**
 * The promise form of a client's unary methods: same names, `(request, options?)`, resolving
 * with the response and rejecting with a ServiceError (gRPC status mapped to a code).
 */
export type PromiseMethods<C> = {
  readonly [K in UnaryMethodName<C>]: C[K] extends (
    argument: infer Req,
    callback: grpc.requestCallback<infer Res>,
  ) => grpc.ClientUnaryCall
    ? (request: Req, options?: UnaryCallOptions) => Promise<Res>
    : never;
};

/**
 * A generated grpc-js client (callback API: `client.HealthCheck({}, (err, res) => …)`, streams
 * as grpc-js streams) plus `promises` for unary calls: `await client.promises.HealthCheck({})`.
 */
export type TypedClient<C> = C & {
  readonly promises: PromiseMethods<C>;
  /** The service this client talks to, put on the errors of promise calls. */
  readonly serviceName: string;
};

/** The typed client of one of the five services. */
export type ServiceClient<K extends ServiceKind> = TypedClient<ServiceTypes[K]['client']>;
/** Client of `asr.ASRService`. */
export type ASRClient = ServiceClient<'asr'>;
/** Client of `llm.LLMService`. */
export type LLMClient = ServiceClient<'llm'>;
/** Client of `rag.RAGService`. */
export type RAGClient = ServiceClient<'rag'>;
/** Client of `tts.TTSService`. */
export type TTSClient = ServiceClient<'tts'>;
/** Client of `lipsync.LipSyncService`. */
export type LipSyncClient = ServiceClient<'lipsync'>;

type Callback = (error: grpc.ServiceError | null, response?: unknown) => void;
type UnaryMethod = (this: grpc.Client, ...args: unknown[]) => grpc.ClientUnaryCall;

function cancelled(signal: AbortSignal, service: string): ServiceError {
  const reason: unknown = signal.reason;
  if (isServiceError(reason)) return reason;
  return new ServiceError(ServiceErrorCode.CANCELLED, 'The call was cancelled', service, {
    retryable: false,
    cause: reason,
  });
}

function promiseMethod(client: grpc.Client, method: UnaryMethod, service: string) {
  return (request: unknown, options?: UnaryCallOptions): Promise<unknown> =>
    new Promise((resolve, reject) => {
      try {
        startUnary(client, method, service, request, options, resolve, reject);
      } catch (error) {
        // A throwing interceptor surfaces from grpc-js synchronously: still a ServiceError.
        reject(ServiceError.from(error, service));
      }
    });
}

function startUnary(
  client: grpc.Client,
  method: UnaryMethod,
  service: string,
  request: unknown,
  options: UnaryCallOptions | undefined,
  resolve: (value: unknown) => void,
  reject: (error: unknown) => void,
): void {
  if (options === undefined) {
    method.call(client, request, ((error, response) =>
      error === null ? resolve(response) : reject(ServiceError.from(error, service))) as Callback);
    return;
  }
  const { metadata, signal, ...callOptions } = options;
  if (signal?.aborted) {
    reject(cancelled(signal, service));
    return;
  }
  const onAbort = (): void => {
    reject(cancelled(signal!, service));
    call.cancel();
  };
  const callback: Callback = (error, response) => {
    signal?.removeEventListener('abort', onAbort);
    if (error === null) resolve(response);
    else reject(ServiceError.from(error, service));
  };
  const call =
    metadata === undefined
      ? method.call(client, request, callOptions, callback)
      : method.call(client, request, metadata, callOptions, callback);
  signal?.addEventListener('abort', onAbort, { once: true });
}

/**
 * Adds `promises` and `serviceName` to a grpc-js client made from a proto-loader service
 * definition. Methods are looked up once here, not per call.
 */
export function withPromises<C extends grpc.Client>(
  client: C,
  definition: grpc.ServiceDefinition,
  serviceName: string,
): TypedClient<C> {
  const promises: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    if (method.requestStream || method.responseStream) continue;
    const fn = (client as unknown as Record<string, UnaryMethod>)[name];
    if (typeof fn === 'function') promises[name] = promiseMethod(client, fn, serviceName);
  }
  Object.defineProperty(client, 'promises', { value: Object.freeze(promises), enumerable: false });
  Object.defineProperty(client, 'serviceName', { value: serviceName, enumerable: false });
  return client as TypedClient<C>;
}
