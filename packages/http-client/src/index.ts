export type { AuthHeaderSource, ServiceCredentials, TokenSource } from './auth-source';
export {
  type CallContextOptions,
  callContextMiddleware,
  currentCallContext,
  withCallContext,
} from './call-context-middleware';
export { IDEMPOTENCY_KEY_HEADER } from './idempotency';
export {
  CORRELATION_ID_HEADER,
  DEADLINE_HEADER,
  type HttpCallContext,
  isValidCorrelationId,
  parseDeadlineHeader,
  SERVICE_NAME_HEADER,
} from './propagation-headers';
export type { ResponseType } from './response-body';
export { CIRCUIT_OPEN_MESSAGE, type CircuitEvents, ServiceClient } from './service-client';
export {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  type RequestOptions,
  type ServiceClientOptions,
  serviceClientOptionsSchema,
} from './service-client-options';
export type { ServiceDiscovery, ServiceInstance } from './target';
