export {
  type AttemptRecord,
  type CallContext,
  CORRELATION_ID_HEADER,
  currentCallContext,
  getCorrelationId,
  newCorrelationId,
  readCorrelationId,
  runInCallContext,
  withCorrelationId,
} from './call-context';
export { decorateCalls } from './call-decorator';
export {
  ClientFactory,
  type ClientFactoryOptions,
  type ClientTarget,
  type CreateClientOptions,
  clientFactoryOptionsSchema,
  serviceFullName,
} from './client-factory';
export {
  configFromEnv,
  DEFAULT_CIRCUIT_BREAKER,
  DEFAULT_PORTS,
  DEFAULT_RETRY,
  type ParsedServiceCommunicationConfig,
  type ServiceCommunicationConfig,
  serviceCommunicationConfigSchema,
} from './config';
export type { ServiceCommunicationEvents } from './events';
export type * as asr from './generated/asr/index';
export type * as lipsync from './generated/lipsync/index';
export type * as llm from './generated/llm/index';
export type * as rag from './generated/rag/index';
export type * as tts from './generated/tts/index';
export {
  type AuthInterceptorOptions,
  authInterceptor,
  type ClientContextOptions,
  clientContextInterceptor,
  correlationIdInterceptor,
  deadlineInterceptor,
  type TokenSource,
} from './interceptors';
export {
  getMethodPolicy,
  type IdempotencyLevel,
  isRetryableMethod,
  type MethodPolicy,
  registerMethodPolicies,
} from './method-policy';
export {
  clientConstructor,
  getPackageDefinition,
  getProtoDir,
  LOADER_OPTIONS,
  loadProtos,
  type ProtoGrpcType,
  protoPath,
  SERVICE_KINDS,
  SERVICE_PROTOS,
  type ServiceKind,
  type ServiceTypes,
  serviceDefinition,
} from './protos';
export {
  type CustomService,
  createServiceServer,
  type ServiceHandlers,
  type ServiceImplementations,
  type ServiceServer,
  type ServiceServerOptions,
  toServerError,
  wrapHandler,
} from './server';
export {
  type ManagerClientOptions,
  type ServiceCallOptions,
  ServiceCommunicationManager,
} from './service-communication-manager';
export {
  type ASRClient,
  type LipSyncClient,
  type LLMClient,
  type PromiseMethods,
  type RAGClient,
  type ServiceClient,
  type TTSClient,
  type TypedClient,
  type UnaryCallOptions,
  type UnaryMethodName,
  withPromises,
} from './typed-client';
