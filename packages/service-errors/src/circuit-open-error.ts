import { CircuitState } from './circuit-state';
import { ServiceErrorCode } from './error-code';
import { type ServiceError, serviceErrorWithoutStack } from './service-error';

/**
 * The CIRCUIT_OPEN error a breaker rejects a call with: not retryable, `retryAfterMs` the wait
 * until the next probe (none while isolated or half-open), the state in `metadata`. No stack
 * trace: a rejection is a policy decision raised at full request rate during an outage, and
 * capturing a stack costs more than the rest of the rejection several times over.
 */
export function circuitOpenError(
  service: string | undefined,
  state: CircuitState,
  isolated: boolean,
  retryAfterMs: number | undefined,
): ServiceError {
  const who = service === undefined ? 'Circuit breaker' : `Circuit breaker for ${service}`;
  const why = isolated
    ? 'is isolated'
    : state === CircuitState.OPEN
      ? 'is open'
      : 'is half-open and its probe slots are taken';
  return serviceErrorWithoutStack(ServiceErrorCode.CIRCUIT_OPEN, `${who} ${why}`, service, {
    retryable: false,
    retryAfterMs,
    metadata: { state },
  });
}
