import { formatValue } from '@clone/internal';
import { BasePolicy } from './base-policy';
import type { Bulkhead } from './bulkhead';
import type { CircuitBreaker } from './circuit-breaker';
import { ServiceErrorCode } from './error-code';
import type { Fallback } from './fallback';
import {
  callOperation,
  EXECUTE,
  type ExecuteContext,
  isLayer,
  type Layer,
  type Next,
  type Operation,
  type OutcomeObserver,
  type Policy,
} from './policy';
import type { RetryPolicy } from './retry-policy';
import { ServiceError } from './service-error';
import type { Timeout } from './timeout';

/** The value type a list of policies may substitute (a Fallback's), `never` if none. */
export type SubstituteOf<P extends readonly Policy<any>[]> = P[number] extends Policy<infer R> ? R : never;

/** The policies {@link compose} accepts by role, each optional; applied in the documented order. */
export interface PolicySet<R = never> {
  fallback?: Fallback<R> | undefined;
  retry?: RetryPolicy | undefined;
  circuitBreaker?: CircuitBreaker | undefined;
  timeout?: Timeout | undefined;
  bulkhead?: Bulkhead | undefined;
}

/**
 * Policies applied one inside the other, outermost first. Every layer sees the same signal (the
 * caller's) and the same deadline (the earliest any layer set), through the context handed down.
 *
 * The chain is linked once, here: each layer is handed the next one, and a call goes down it
 * through the same execution path a single policy takes, with no closure per layer and no
 * special case for any combination. A policy from elsewhere (anything with `run`) is linked
 * through its `run`.
 */
export class ComposedPolicy<R = never> extends BasePolicy<R> {
  /** The layers, outermost first. */
  readonly policies: readonly Policy<any>[];
  readonly #first: Layer<R>;
  /** What the outermost layer runs: the rest of the chain. */
  readonly #rest: Next;

  constructor(policies: readonly Policy<any>[]) {
    super();
    this.policies = policies;
    let next: Next = callOperation;
    for (let i = policies.length - 1; i >= 1; i--) next = link(policies[i]!, next);
    this.#rest = next;
    this.#first = asLayer(policies[0]!);
  }

  /** @internal The one execution path (see `EXECUTE` in policy.ts): this chain, then `next`. */
  [EXECUTE]<T>(
    op: Operation<T>,
    context: ExecuteContext,
    next: Next,
    observer?: OutcomeObserver,
  ): Promise<T | R> {
    // The outermost layer's promise is this chain's: it may take an outer layer's observer.
    if (next === callOperation) return this.#first[EXECUTE](op, context, this.#rest, observer);
    // Nested in another chain: the end of this one continues into the outer one's rest.
    return this.#first[EXECUTE]((inner: ExecuteContext) => next(op, inner), context, this.#rest, observer);
  }
}

/** The step that runs `policy` with `next` inside it, made once per composition. */
function link(policy: Policy<any>, next: Next): Next {
  const layer = asLayer(policy);
  return (op, context, observer) => layer[EXECUTE](op, context, next, observer);
}

/** One of our policies as it is; any other through its `run` (a closure per call, theirs). */
function asLayer<R>(policy: Policy<R>): Layer<R> {
  if (isLayer(policy)) return policy;
  return {
    [EXECUTE]: (op, context, next) =>
      next === callOperation ? policy.run(op, context) : policy.run((inner) => next(op, inner), context),
  };
}

const ORDER = ['fallback', 'retry', 'circuitBreaker', 'timeout', 'bulkhead'] as const;

/**
 * Wraps policies around one another. Given a {@link PolicySet}, the order is fixed:
 *
 *     fallback ( retry ( circuitBreaker ( timeout ( bulkhead ( fn ) ) ) ) )
 *
 * - retry outside the breaker: every attempt is seen, and refused, by the breaker, so retries
 *   stop hammering an open circuit (CIRCUIT_OPEN is not retryable);
 * - breaker outside the timeout: a timed-out attempt counts as a failure;
 * - timeout outside the bulkhead: the wait for a slot is part of the time budget;
 * - fallback outermost: it replaces only the final error.
 *
 * Given policies as arguments, they apply in that order, outermost first. Either way one signal
 * and one deadline are shared: a RetryPolicy's `deadlineMs` bounds each attempt's timeout.
 */
export function compose<R = never>(set: PolicySet<R>): ComposedPolicy<R>;
export function compose<const P extends readonly Policy<any>[]>(
  ...policies: P
): ComposedPolicy<SubstituteOf<P>>;
export function compose(...args: unknown[]): ComposedPolicy<unknown> {
  const first = args[0];
  const isSet = args.length === 1 && first !== null && typeof first === 'object' && !('run' in first);
  if (isSet) {
    // A misspelt role (`breaker` for `circuitBreaker`) would silently drop that policy.
    const unknown = Object.keys(first).filter((key) => !(ORDER as readonly string[]).includes(key));
    if (unknown.length > 0) {
      throw new ServiceError(
        ServiceErrorCode.BAD_REQUEST,
        `compose: unknown option ${unknown.map((k) => `'${k}'`).join(', ')} (expected ${ORDER.join(', ')})`,
        undefined,
        { retryable: false },
      );
    }
  }
  const policies = isSet
    ? ORDER.map((role) => (first as PolicySet<unknown>)[role]).filter((p) => p !== undefined)
    : (args as Policy<unknown>[]);
  if (policies.length === 0) {
    throw new ServiceError(ServiceErrorCode.BAD_REQUEST, 'compose: needs at least one policy', undefined, {
      retryable: false,
    });
  }
  policies.forEach((p, i) => {
    if (typeof (p as Partial<Policy<unknown>> | null)?.run !== 'function') {
      throw new ServiceError(
        ServiceErrorCode.BAD_REQUEST,
        `compose: argument ${i} must be a policy (with run()), got ${formatValue(p)}`,
        undefined,
        { retryable: false },
      );
    }
  });
  return new ComposedPolicy(policies as Policy<unknown>[]);
}
