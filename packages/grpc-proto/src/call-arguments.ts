import { formatValue } from '@clone/internal';
import { isValidCorrelationId } from './call-context';
import type { ServiceCallOptions } from './call-executor';
import { badRequest } from './errors';

/**
 * Checks the arguments of `executeServiceCall` (BAD_REQUEST naming the bad one). Plain checks
 * rather than a schema parse: this runs on every call.
 * @internal
 */
export function checkCallArguments(
  serviceName: unknown,
  fn: unknown,
  options: ServiceCallOptions | null | undefined,
): asserts options is ServiceCallOptions {
  if (typeof serviceName !== 'string' || serviceName.trim() === '') {
    throw badRequest(
      `executeServiceCall: serviceName must be a non-empty string, got ${JSON.stringify(serviceName)}`,
      'serviceName',
    );
  }
  if (typeof fn !== 'function') {
    throw badRequest(`executeServiceCall: fn must be a function, got ${typeof fn}`, 'fn', serviceName);
  }
  // Cheap checks of the options (no schema parse on this path: it runs on every call).
  if (typeof options !== 'object' || options === null) {
    throw badRequest(
      `executeServiceCall: options must be an object, got ${formatValue(options)}`,
      'options',
      serviceName,
    );
  }
  const { correlationId, idempotent, signal } = options;
  if (correlationId !== undefined && !isValidCorrelationId(correlationId)) {
    throw badRequest(
      `executeServiceCall: correlationId must be 1-128 printable ASCII characters without spaces, got ${formatValue(correlationId)}`,
      'correlationId',
      serviceName,
    );
  }
  if (idempotent !== undefined && typeof idempotent !== 'boolean') {
    throw badRequest(
      `executeServiceCall: idempotent must be a boolean, got ${formatValue(idempotent)}`,
      'idempotent',
      serviceName,
    );
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw badRequest(
      `executeServiceCall: signal must be an AbortSignal, got ${formatValue(signal)}`,
      'signal',
      serviceName,
    );
  }
}
