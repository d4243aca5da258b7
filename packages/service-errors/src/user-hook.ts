import { ServiceErrorCode } from './error-code';
import { ServiceError } from './service-error';

/**
 * The error a call ends with when a user hook (`isFailure`, `shouldRetry`, `shouldFallback`,
 * `random`) threw while a policy judged it: INTERNAL_ERROR, not retryable, the hook's error as
 * `cause` and the outcome it was judging in `metadata`, so neither is lost and the policy's
 * bookkeeping completes as for any other outcome.
 */
export function hookFailed(
  policy: string,
  hook: string,
  hookError: unknown,
  judging: ServiceError | undefined,
  service: string | undefined,
): ServiceError {
  const reason = ServiceError.from(hookError).message;
  return new ServiceError(ServiceErrorCode.INTERNAL_ERROR, `${policy}: ${hook} threw: ${reason}`, service, {
    retryable: false,
    cause: hookError,
    metadata:
      judging === undefined ? { hook } : { hook, judging: { code: judging.code, message: judging.message } },
  });
}

/**
 * Bookkeeping in a reaction that only observes a call threw (a user logger that throws): it
 * must not become an unhandled rejection, and the call's own outcome is already the caller's,
 * so it is reported as a process warning, as a throwing event listener is.
 */
export function observerThrew(policy: string, error: unknown): void {
  process.emitWarning(`${policy} bookkeeping threw: ${ServiceError.from(error).message}`, {
    code: 'CLONE_POLICY_BOOKKEEPING',
  });
}
