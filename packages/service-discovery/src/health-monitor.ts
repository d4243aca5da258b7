import { MAX_TIMER_MS } from '@clone/internal';
import { type Clock, ServiceError, ServiceErrorCode, type TimerHandle } from '@clone/service-errors';
import type { HealthCheck } from './health-check';
import { type ServiceInstance, sameAddress } from './instance';

/** `unknown` until the first check; instances that are not `unhealthy` are in rotation. */
export type HealthStatus = 'unknown' | 'healthy' | 'unhealthy';

/** An instance's health changed (after the thresholds' flap damping). */
export interface HealthChange {
  instance: ServiceInstance;
  previous: HealthStatus;
  current: HealthStatus;
  /** Why the last check failed, when it did. */
  error?: ServiceError;
}

/** One health check of an instance ran to its end (a stale or cancelled one is not reported). */
export interface HealthCheckResult {
  instance: ServiceInstance;
  healthy: boolean;
  /** How long the check took, by the monitor's clock. */
  durationMs: number;
  /** Why it failed, when it did (a timeout is a TIMEOUT ServiceError). */
  error?: ServiceError;
}

/** What a {@link HealthMonitor} needs; the registry passes its parsed options. */
export interface HealthMonitorOptions {
  check: HealthCheck;
  intervalMs: number;
  timeoutMs: number;
  /** Each interval is stretched or shrunk at random by up to this fraction. */
  jitter: number;
  unhealthyThreshold: number;
  healthyThreshold: number;
  clock: Clock;
  /** Uniform numbers in [0, 1), for the jitter. */
  random: () => number;
  /** Called after each check that ran to its end, before the status is updated from it. */
  onCheck(result: HealthCheckResult): void;
  /** Called after each change, once the status is set. */
  onChange(change: HealthChange): void;
}

interface Tracked {
  instance: ServiceInstance;
  health: HealthStatus;
  passes: number;
  failures: number;
  timer: TimerHandle | undefined;
  check: AbortController | undefined;
}

/**
 * Periodic health checks of every tracked instance, with flap damping: the first result decides
 * an `unknown` instance at once, then it takes `unhealthyThreshold` consecutive failures to
 * leave rotation and `healthyThreshold` consecutive passes to come back. Each check is bounded
 * by `timeoutMs`; timers come from the injected clock and are unref'd.
 * @internal The registry's; a service team sees it through `ServiceRegistry`.
 */
export class HealthMonitor {
  readonly #options: HealthMonitorOptions;
  readonly #tracked = new Map<string, Tracked>();
  #running = false;

  constructor(options: HealthMonitorOptions) {
    this.#options = options;
  }

  /** The health of one tracked instance, or undefined when it is not tracked. */
  status(serviceId: string): HealthStatus | undefined {
    return this.#tracked.get(serviceId)?.health;
  }

  /** Tracks a new instance as `unknown`; checked at once while running. */
  add(instance: ServiceInstance): void {
    const tracked: Tracked = {
      instance,
      health: 'unknown',
      passes: 0,
      failures: 0,
      timer: undefined,
      check: undefined,
    };
    this.#tracked.set(instance.serviceId, tracked);
    if (this.#running) this.#schedule(tracked, 0);
  }

  /**
   * A tracked instance's registration changed. At a new address its health is unknown again
   * and checked at once; otherwise it keeps its status (a check in flight is then stale).
   */
  update(instance: ServiceInstance): void {
    const tracked = this.#tracked.get(instance.serviceId);
    if (tracked === undefined) {
      this.add(instance);
      return;
    }
    const moved = !sameAddress(tracked.instance, instance);
    tracked.instance = instance;
    if (!moved) return;
    tracked.health = 'unknown';
    tracked.passes = 0;
    tracked.failures = 0;
    if (this.#running) this.#schedule(tracked, 0);
  }

  /** Stops tracking an instance: its timer is cleared and a check in flight aborted. */
  remove(serviceId: string): void {
    const tracked = this.#tracked.get(serviceId);
    if (tracked === undefined) return;
    this.#tracked.delete(serviceId);
    this.#cancel(tracked);
  }

  /** Checks every tracked instance at once, then every interval. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    for (const tracked of this.#tracked.values()) this.#schedule(tracked, 0);
  }

  /** No timer and no check left running; statuses are kept. */
  stop(): void {
    this.#running = false;
    for (const tracked of this.#tracked.values()) this.#cancel(tracked);
  }

  #schedule(tracked: Tracked, delayMs: number): void {
    const { clock } = this.#options;
    if (tracked.timer !== undefined) clock.clearTimeout(tracked.timer);
    tracked.timer = clock.setTimeout(
      () => {
        tracked.timer = undefined;
        void this.#run(tracked);
      },
      delayMs,
      true,
    );
  }

  #cancel(tracked: Tracked): void {
    if (tracked.timer !== undefined) this.#options.clock.clearTimeout(tracked.timer);
    tracked.timer = undefined;
    tracked.check?.abort(new ServiceError(ServiceErrorCode.CANCELLED, 'health checks stopped'));
    tracked.check = undefined;
  }

  /** The next delay: the interval spread by the jitter, never beyond what a timer holds. */
  #nextDelay(): number {
    const { intervalMs, jitter, random } = this.#options;
    const spread = intervalMs * jitter;
    const delay = Math.round(intervalMs - spread + random() * 2 * spread);
    return Math.min(MAX_TIMER_MS, Math.max(0, delay));
  }

  async #run(tracked: Tracked): Promise<void> {
    const { clock, timeoutMs } = this.#options;
    const controller = new AbortController();
    tracked.check = controller;
    const instance = tracked.instance;
    const started = clock.now();
    const timeout = clock.setTimeout(
      () =>
        controller.abort(
          new ServiceError(
            ServiceErrorCode.TIMEOUT,
            `health check timed out after ${timeoutMs} ms`,
            instance.serviceName,
          ),
        ),
      timeoutMs,
      true,
    );
    let healthy = false;
    let error: ServiceError | undefined;
    try {
      healthy = await this.#options.check(instance, controller.signal);
      if (!healthy)
        error = new ServiceError(
          ServiceErrorCode.SERVICE_UNAVAILABLE,
          'health check failed',
          instance.serviceName,
        );
    } catch (cause) {
      error = ServiceError.from(
        controller.signal.aborted ? (controller.signal.reason ?? cause) : cause,
        instance.serviceName,
      );
    } finally {
      clock.clearTimeout(timeout);
    }
    // Stopped, removed or re-registered elsewhere while the check ran: its result is stale.
    if (tracked.check !== controller || this.#tracked.get(instance.serviceId) !== tracked) return;
    tracked.check = undefined;
    if (tracked.instance === instance) {
      const result: HealthCheckResult = { instance, healthy, durationMs: clock.now() - started };
      if (error !== undefined) result.error = error;
      this.#options.onCheck(result);
      this.#record(tracked, healthy, error);
    }
    if (this.#running) this.#schedule(tracked, this.#nextDelay());
  }

  #record(tracked: Tracked, healthy: boolean, error: ServiceError | undefined): void {
    const previous = tracked.health;
    if (healthy) {
      tracked.failures = 0;
      tracked.passes++;
      if (
        previous === 'healthy' ||
        (previous === 'unhealthy' && tracked.passes < this.#options.healthyThreshold)
      )
        return;
      tracked.health = 'healthy';
    } else {
      tracked.passes = 0;
      tracked.failures++;
      if (
        previous === 'unhealthy' ||
        (previous === 'healthy' && tracked.failures < this.#options.unhealthyThreshold)
      )
        return;
      tracked.health = 'unhealthy';
    }
    const change: HealthChange = { instance: tracked.instance, previous, current: tracked.health };
    if (error !== undefined) change.error = error;
    this.#options.onChange(change);
  }
}
