import type { Emitter, Logger, ServiceError } from '@clone/service-errors';
import type { AuthFailureReason } from './errors';
import type { ServiceAuthEvents } from './events';
import { safeLog } from './user-callbacks';

/** Records a refused token or call: an `authFailure` event and a debug log line. */
export type FailureReporter = (
  error: ServiceError,
  method: string | undefined,
  serviceName: string | undefined,
) => void;

/**
 * The reporter shared by the verifier and the server interceptor, so a refusal is reported the
 * same way wherever it happens. Costs nothing beyond the log call when nobody listens.
 */
export function createFailureReporter(events: Emitter<ServiceAuthEvents>, logger: Logger): FailureReporter {
  return (error, method, serviceName) => {
    const reason = (error.metadata?.reason ?? 'malformed') as AuthFailureReason;
    safeLog(logger, 'debug', 'service call refused', { reason, method, serviceName });
    if (!events.hasListeners('authFailure')) return;
    events.emit('authFailure', {
      reason,
      message: error.message,
      ...(serviceName === undefined ? {} : { serviceName }),
      ...(method === undefined ? {} : { method }),
    });
  };
}
