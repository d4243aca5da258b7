export {
  CORRELATION_ID_HEADER,
  getCorrelationId,
  newCorrelationId,
  withCorrelationId,
} from './call-context';
export type { ServiceCallOptions } from './call-executor';
export type { CallScope, CallTelemetry, RpcScope, TraceCarrier } from './call-telemetry';
export {
  type CredentialsSetting,
  channelCredentials,
  type TlsSettings,
} from './channel-credentials';
export {
  type ClientContextOptions,
  clientContextInterceptor,
  type TokenSource,
} from './client-context-interceptor';
export {
  ClientFactory,
  type ClientFactoryOptions,
  type ClientTarget,
  type CreateClientOptions,
  type ServiceNameResolver,
} from './client-factory';
export {
  configFromEnv,
  DEFAULT_CIRCUIT_BREAKER,
  DEFAULT_PORTS,
  DEFAULT_RETRY,
  type ParsedServiceCommunicationConfig,
  type ServiceCommunicationConfig,
} from './config';
export type { ServiceCommunicationEvents } from './events';
export type * as asr from './generated/asr/index';
export type * as lipsync from './generated/lipsync/index';
export type * as llm from './generated/llm/index';
export type * as rag from './generated/rag/index';
export type * as tts from './generated/tts/index';
export type { ManagerHttpClientOptions } from './http-clients';
export {
  getMethodPolicy,
  type IdempotencyLevel,
  isRetryableMethod,
  type MethodPolicy,
  registerMethodPolicies,
} from './method-policy';
export {
  clientConstructor,
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
} from './server';
export { type ManagerClientOptions, ServiceCommunicationManager } from './service-communication-manager';
export type {
  ASRClient,
  LipSyncClient,
  LLMClient,
  PromiseMethods,
  RAGClient,
  ServiceClient,
  TTSClient,
  TypedClient,
  UnaryCallOptions,
  UnaryMethodName,
} from './typed-client';
