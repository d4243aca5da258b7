export { ServiceErrorCode, isRetryableByDefault, isServiceErrorCode } from './error-code';
export {
  GrpcStatus,
  type GrpcStatusName,
  type GrpcStatusMapping,
  GRPC_STATUS_TO_ERROR,
  ERROR_TO_GRPC_STATUS,
  grpcStatusName,
} from './grpc-status';
export { ERROR_TO_HTTP_STATUS, type HttpStatusMapping, httpStatusToError, parseRetryAfter } from './http-status';
export {
  ServiceError,
  type ServiceErrorJSON,
  type ServiceErrorOptions,
  isServiceError,
  toGrpcStatus,
} from './service-error';
export { parseOptions, formatValue, intAtLeast, numberAtLeast, nonEmptyString } from './validation';
export { type Clock, type TimerHandle, systemClock } from './clock';
export { type Logger, noopLogger } from './logger';
export { Emitter, type Listener, type Unsubscribe } from './emitter';
