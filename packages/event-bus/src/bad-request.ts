import { ServiceError, ServiceErrorCode } from '@clone/service-errors';

/**
 * The error for bad input given to the bus: BAD_REQUEST, not retryable, with the offending field
 * in `metadata.field` so callers (and tests) can tell which one without parsing the message.
 */
export function badRequest(
  message: string,
  field: string,
  metadata: Record<string, unknown> = {},
): ServiceError {
  return new ServiceError(ServiceErrorCode.BAD_REQUEST, message, undefined, {
    retryable: false,
    metadata: { ...metadata, field },
  });
}
