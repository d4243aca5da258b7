import { functionOption } from '@clone/internal';
import { z } from 'zod';
import { BasePolicy } from './base-policy';
import { Emitter, type Listener, type Unsubscribe } from './emitter';
import { EXECUTE, type ExecuteContext, type Next, type Operation } from './policy';
import { ServiceError } from './service-error';
import { hookFailed } from './user-hook';
import { parseOptions } from './validation';

/** Options of a {@link Fallback} returning `R`. */
export interface FallbackOptions<R> {
  /** Produces the value returned instead of failing; may itself throw. */
  fallback: (error: ServiceError, context: ExecuteContext) => R | PromiseLike<R>;
  /**
   * Which failures fall back (default: every failure except the caller's own cancellation). If
   * it throws, the call fails with INTERNAL_ERROR (the thrown value as `cause`).
   */
  shouldFallback?: ((error: ServiceError) => boolean) | undefined;
}

const fallbackOptionsSchema = z.strictObject({
  fallback: functionOption<(error: ServiceError, context: ExecuteContext) => unknown>(),
  shouldFallback: functionOption<(error: ServiceError) => boolean>().optional(),
});

/** Events of a {@link Fallback}. */
export interface FallbackEvents {
  /** The call failed with `error` and the fallback value was used. */
  fallback: { error: ServiceError };
}

/**
 * Returns a substitute value when the call fails: a cached answer, a default, a degraded
 * response. A caller's cancellation is not a failure to hide, so it is rethrown by default.
 * Put it outermost: it sees the error left after retries.
 */
export class Fallback<R> extends BasePolicy<R> {
  readonly #fallback: (error: ServiceError, context: ExecuteContext) => R | PromiseLike<R>;
  readonly #shouldFallback: (error: ServiceError) => boolean;
  #events: Emitter<FallbackEvents> | undefined;

  constructor(options: FallbackOptions<R>) {
    super();
    const o = parseOptions(fallbackOptionsSchema, options, 'Fallback');
    this.#fallback = o.fallback as FallbackOptions<R>['fallback'];
    this.#shouldFallback = o.shouldFallback ?? ((error) => error.code !== 'CANCELLED');
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof FallbackEvents>(event: K, listener: Listener<FallbackEvents[K]>): Unsubscribe {
    this.#events ??= new Emitter();
    return this.#events.on(event, listener);
  }

  /** @internal The one execution path (see `EXECUTE` in policy.ts). */
  async [EXECUTE]<T>(op: Operation<T>, context: ExecuteContext, next: Next): Promise<T | R> {
    try {
      return await next(op, context);
    } catch (raw) {
      const error = ServiceError.from(raw);
      let substitute: boolean;
      try {
        substitute = Boolean(this.#shouldFallback(error));
      } catch (hookError) {
        throw hookFailed('Fallback', 'shouldFallback', hookError, error, error.service);
      }
      if (!substitute) throw raw;
      this.#events?.emit('fallback', { error });
      return await this.#fallback(error, context);
    }
  }
}
