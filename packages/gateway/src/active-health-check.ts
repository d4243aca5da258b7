import type { HealthCheck } from '@clone/service-discovery';
import type { Clock, Logger } from '@clone/service-errors';
import type { ServiceUpstreams } from './service-upstreams';

/** Settings of the active checks, as parsed. @internal */
export interface ActiveHealthSettings {
  intervalMs: number;
  timeoutMs: number;
  unhealthyThreshold: number;
  check: HealthCheck;
  clock: Clock;
  logger: Logger;
}

/**
 * Checks every instance of every routed service each `intervalMs` (ejected and unhealthy ones
 * included: a passed check is how they come back). One round at a time: a round that outlasts
 * the interval delays the next instead of piling checks up. The timer is unref'd. @internal
 */
export class ActiveHealthCheck {
  readonly #settings: ActiveHealthSettings;
  readonly #services: () => Iterable<ServiceUpstreams>;
  #timer: unknown;
  #round: Promise<void> | undefined;
  #controller: AbortController | undefined;
  #stopped = false;

  constructor(settings: ActiveHealthSettings, services: () => Iterable<ServiceUpstreams>) {
    this.#settings = settings;
    this.#services = services;
  }

  /** Schedules the first round one interval from now. */
  start(): void {
    this.#schedule();
  }

  /** Runs one round now (also what the timer does); resolves when every check has ended. */
  runOnce(): Promise<void> {
    this.#round ??= this.#run().finally(() => {
      this.#round = undefined;
    });
    return this.#round;
  }

  /** Stops the timer and aborts a round under way; no handle is left. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#settings.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#controller?.abort();
    await this.#round;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#settings.clock.setTimeout(
      () => {
        this.#timer = undefined;
        void this.runOnce().finally(() => this.#schedule());
      },
      this.#settings.intervalMs,
      true,
    );
  }

  async #run(): Promise<void> {
    const { check, timeoutMs, clock, unhealthyThreshold, logger } = this.#settings;
    const controller = new AbortController();
    this.#controller = controller;
    const timer = clock.setTimeout(() => controller.abort(), timeoutMs, true);
    const checks: Promise<void>[] = [];
    for (const service of this.#services())
      for (const u of service.upstreams)
        checks.push(
          check(u.instance, controller.signal).then(
            (passed) => {
              if (!this.#stopped) service.checked(u, passed, unhealthyThreshold);
            },
            (error: unknown) => {
              if (this.#stopped) return;
              logger.debug('gateway: health check failed', { serviceId: u.instance.serviceId, error });
              service.checked(u, false, unhealthyThreshold);
            },
          ),
        );
    await Promise.all(checks);
    clock.clearTimeout(timer);
    this.#controller = undefined;
  }
}
