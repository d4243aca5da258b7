import { ServiceError, ServiceErrorCode } from '@clone/service-errors';

/** A caller's mistake: BAD_REQUEST, not retryable, naming the field (and the service, when known). @internal */
export function badRequest(message: string, field: string, service?: string): ServiceError {
  return new ServiceError(ServiceErrorCode.BAD_REQUEST, message, service, {
    retryable: false,
    metadata: { field },
  });
}
