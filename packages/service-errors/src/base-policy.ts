import {
  callOperation,
  EXECUTE,
  type ExecuteContext,
  type Next,
  type Operation,
  type OutcomeObserver,
  type Policy,
  rootContext,
} from './policy';

/**
 * What every policy of this package is: one internal execution method (see policy.ts) and
 * the two public entry points over it, written once here. `execute` starts a call of its own, `run`
 * continues an outer policy's; both go down the same path a composed chain takes.
 */
export abstract class BasePolicy<R = never> implements Policy<R> {
  /**
   * Runs `fn` under the policy. `signal` cancels the call: a call whose signal aborts rejects
   * at once with the abort's ServiceError (`CANCELLED` unless the reason is a ServiceError).
   */
  execute<T>(fn: Operation<T>, signal?: AbortSignal): Promise<T | R> {
    return this[EXECUTE](fn, rootContext(signal), callOperation);
  }

  /** Runs `fn` inside an outer policy's context: same signal, same deadline (see `compose`). */
  run<T>(fn: Operation<T>, context: ExecuteContext): Promise<T | R> {
    return this[EXECUTE](fn, context, callOperation);
  }

  /**
   * @internal The one execution path (see `EXECUTE` in policy.ts): runs `next(op, context)`
   * under the policy. `observer`: an outer layer's, which this one may take (see
   * `OutcomeObserver`).
   */
  abstract [EXECUTE]<T>(
    op: Operation<T>,
    context: ExecuteContext,
    next: Next,
    observer?: OutcomeObserver,
  ): Promise<T | R>;
}
