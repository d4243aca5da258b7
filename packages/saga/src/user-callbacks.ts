import { randomId } from '@clone/internal';
import { type Logger, ServiceError, ServiceErrorCode } from '@clone/service-errors';

/**
 * The boundary to user code a saga calls besides its handlers (the id source, the logger) and
 * to whatever user code throws. Anything thrown becomes a ServiceError with the original as
 * `cause`, never a second throw while reading it, so a saga's state stays consistent: a step
 * that threw is a failed step, not a run that never settles.
 */

/**
 * `ServiceError.from`, guarded: a handler may throw anything (a proxy, an object whose
 * getters throw), and reading it must not throw in turn.
 */
export function toServiceError(error: unknown, service?: string): ServiceError {
  try {
    return ServiceError.from(error, service);
  } catch {
    return new ServiceError(
      ServiceErrorCode.INTERNAL_ERROR,
      'A saga callback threw a value that could not be read',
      service,
      { retryable: false, cause: error },
    );
  }
}

/**
 * A fresh id from `createId` (default a random UUID). A source that throws or returns no
 * string is an INTERNAL_ERROR naming `what`, with what it threw as `cause`.
 */
export function nextId(createId: (() => string) | undefined, what: string): string {
  let id: unknown;
  try {
    id = randomId(createId);
  } catch (error) {
    throw new ServiceError(ServiceErrorCode.INTERNAL_ERROR, `${what}: createId() threw`, undefined, {
      retryable: false,
      cause: error,
    });
  }
  if (typeof id !== 'string' || id === '') {
    throw new ServiceError(
      ServiceErrorCode.INTERNAL_ERROR,
      `${what}: createId() did not return a non-empty string`,
      undefined,
      { retryable: false, metadata: { returned: typeof id } },
    );
  }
  return id;
}

/** A logger that ignores its own failures: a log line must never change how a saga ends. */
export function guardedLogger(logger: Logger): Logger {
  const guard =
    (level: keyof Logger) =>
    (message: string, fields?: Record<string, unknown>): void => {
      try {
        logger[level](message, fields);
      } catch {
        // Deliberately ignored: see above.
      }
    };
  return { debug: guard('debug'), info: guard('info'), warn: guard('warn'), error: guard('error') };
}
