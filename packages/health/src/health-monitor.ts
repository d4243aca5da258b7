import { clockOption, durationMs, loggerOption, nonEmptyString } from '@clone/internal';
import {
  type Clock,
  Emitter,
  type Logger,
  noopLogger,
  parseOptions,
  ServiceError,
  ServiceErrorCode,
  systemClock,
  type Unsubscribe,
} from '@clone/service-errors';
import { z } from 'zod';
import {
  type HealthCheckOutcome,
  type HealthIndicator,
  type ParsedIndicator,
  parseIndicator,
} from './health-indicator';

const optionsSchema = z.object({
  serviceName: nonEmptyString(),
  serviceVersion: z.string({ error: 'must be a string' }).default('0.0.0'),
  logger: loggerOption<Logger>().default(noopLogger),
  clock: clockOption<Clock>().default(systemClock),
  /** How long one check may run before it counts as down. */
  checkTimeoutMs: durationMs().default(5_000),
  /**
   * How long a check's result is reused. Probes from every kubelet, load balancer and gateway
   * then cost one database ping per interval, not one per probe.
   */
  cacheTtlMs: durationMs(0).default(2_000),
});

/** Options of {@link createHealthMonitor}. */
export type HealthMonitorOptions = z.input<typeof optionsSchema>;

/** The outcome of one check in a report. */
export interface HealthCheckResult {
  name: string;
  kind: 'readiness' | 'liveness';
  critical: boolean;
  status: 'up' | 'down';
  durationMs: number;
  /** When this result was measured (ISO 8601): older than now when it came from the cache. */
  checkedAt: string;
  error?: string;
  details?: Record<string, unknown>;
}

/** What `GET /health` answers. */
export interface HealthReport {
  /** `unhealthy` when not ready, `degraded` when only non-critical checks are down. */
  status: 'healthy' | 'degraded' | 'unhealthy';
  service: string;
  version: string;
  timestamp: string;
  uptimeMs: number;
  live: boolean;
  ready: boolean;
  shuttingDown: boolean;
  checks: Record<string, HealthCheckResult>;
}

/** Events of a {@link HealthMonitor}. */
export interface HealthMonitorEvents {
  /** Every check run (not cache hits): for metrics on health results. */
  check: HealthCheckResult;
  /** Readiness flipped: a critical dependency went down or came back, or shutdown began. */
  readiness: { ready: boolean; reason: string };
}

interface Slot {
  readonly indicator: ParsedIndicator;
  last: HealthCheckResult | undefined;
  lastAt: number;
  running: Promise<HealthCheckResult> | undefined;
}

/**
 * One service's health: the checks it depends on, run with a timeout and cached, answering
 * liveness (the process works), readiness (it can take traffic) and a full report. The HTTP
 * routes and the gRPC health service read the same monitor, so they always agree.
 */
export class HealthMonitor {
  readonly #options: z.output<typeof optionsSchema>;
  readonly #slots = new Map<string, Slot>();
  readonly #events = new Emitter<HealthMonitorEvents>();
  readonly #startedAt: number;
  readonly #aborts = new Set<AbortController>();
  #ready: boolean | undefined;
  #shuttingDown = false;
  #closed = false;

  constructor(options: HealthMonitorOptions) {
    this.#options = parseOptions(optionsSchema, options, 'createHealthMonitor');
    this.#startedAt = this.#options.clock.now();
  }

  /** The service this monitor reports on. */
  get serviceName(): string {
    return this.#options.serviceName;
  }

  /** Whether shutdown began: readiness is false from then on. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Adds a check. Throws BAD_REQUEST for a bad indicator or a name already registered. */
  register(indicator: HealthIndicator): this {
    const parsed = parseIndicator(indicator);
    if (this.#slots.has(parsed.name)) {
      throw new ServiceError(
        ServiceErrorCode.BAD_REQUEST,
        `HealthMonitor.register: a check named '${parsed.name}' is already registered`,
        this.#options.serviceName,
        { metadata: { name: parsed.name } },
      );
    }
    this.#slots.set(parsed.name, { indicator: parsed, last: undefined, lastAt: 0, running: undefined });
    return this;
  }

  /** Subscribes to monitor events; returns the unsubscribe. */
  on<K extends keyof HealthMonitorEvents>(
    event: K,
    listener: (payload: HealthMonitorEvents[K]) => void,
  ): Unsubscribe {
    return this.#events.on(event, listener);
  }

  /** Liveness: the liveness checks only. Never asks another service. */
  async live(): Promise<boolean> {
    const results = await this.#run('liveness');
    return results.every((r) => r.status === 'up' || !r.critical);
  }

  /** Readiness: not shutting down, alive, and every critical readiness check up. */
  async ready(): Promise<boolean> {
    return (await this.report()).ready;
  }

  /** Runs (or reuses) every check and reports. */
  async report(): Promise<HealthReport> {
    const results = await this.#run(undefined);
    const criticalDown = results.find((r) => r.status === 'down' && r.critical);
    const live = results.every((r) => r.kind !== 'liveness' || r.status === 'up' || !r.critical);
    const ready = !this.#shuttingDown && criticalDown === undefined;
    this.#setReady(
      ready,
      this.#shuttingDown ? 'shutting down' : criticalDown ? `${criticalDown.name} down` : 'all up',
    );
    const { clock, serviceName, serviceVersion } = this.#options;
    return {
      status: !ready ? 'unhealthy' : results.some((r) => r.status === 'down') ? 'degraded' : 'healthy',
      service: serviceName,
      version: serviceVersion,
      timestamp: new Date(clock.now()).toISOString(),
      uptimeMs: clock.now() - this.#startedAt,
      live,
      ready,
      shuttingDown: this.#shuttingDown,
      checks: Object.fromEntries(results.map((r) => [r.name, r])),
    };
  }

  /**
   * Fails readiness from now on, before anything else stops: load balancers and registries take
   * the instance out of rotation while it still serves what they already sent.
   */
  beginShutdown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#setReady(false, 'shutting down');
  }

  /** Re-evaluates readiness every `intervalMs` (timer unref'd) so watchers hear of changes; returns the stop. */
  poll(intervalMs: number): Unsubscribe {
    const { clock, logger } = this.#options;
    let handle: unknown;
    let stopped = false;
    const tick = (): void => {
      this.report().then(
        () => {
          if (!stopped && !this.#closed) handle = clock.setTimeout(tick, intervalMs, true);
        },
        (error: unknown) => logger.error('health poll failed', { error: ServiceError.from(error).message }),
      );
    };
    handle = clock.setTimeout(tick, intervalMs, true);
    return () => {
      stopped = true;
      clock.clearTimeout(handle);
    };
  }

  /** Aborts checks in flight and stops answering new runs from checks (the report says shutting down). */
  close(): void {
    this.#closed = true;
    this.beginShutdown();
    for (const controller of this.#aborts)
      controller.abort(new ServiceError(ServiceErrorCode.CANCELLED, 'health monitor closed'));
  }

  #setReady(ready: boolean, reason: string): void {
    if (this.#ready === ready) return;
    this.#ready = ready;
    this.#options.logger.info(ready ? 'service ready' : 'service not ready', {
      service: this.#options.serviceName,
      reason,
    });
    this.#events.emit('readiness', { ready, reason });
  }

  #run(kind: 'readiness' | 'liveness' | undefined): Promise<HealthCheckResult[]> {
    const runs: Promise<HealthCheckResult>[] = [];
    for (const slot of this.#slots.values()) {
      if (kind === undefined || slot.indicator.kind === kind) runs.push(this.#result(slot));
    }
    return Promise.all(runs);
  }

  #result(slot: Slot): Promise<HealthCheckResult> {
    const now = this.#options.clock.now();
    if (slot.last !== undefined && now - slot.lastAt < this.#options.cacheTtlMs)
      return Promise.resolve(slot.last);
    // One run at a time per check: a burst of probes waits for the run in flight.
    slot.running ??= this.#check(slot.indicator).then((result) => {
      slot.last = result;
      slot.lastAt = this.#options.clock.now();
      slot.running = undefined;
      return result;
    });
    return slot.running;
  }

  async #check(indicator: ParsedIndicator): Promise<HealthCheckResult> {
    const { clock, logger, checkTimeoutMs } = this.#options;
    const started = clock.now();
    const timeoutMs = indicator.timeoutMs ?? checkTimeoutMs;
    const controller = new AbortController();
    this.#aborts.add(controller);
    let timer: unknown;
    const timedOut = new Promise<never>((_, reject) => {
      timer = clock.setTimeout(
        () => {
          const error = new ServiceError(
            ServiceErrorCode.TIMEOUT,
            `timed out after ${timeoutMs} ms`,
            indicator.name,
          );
          controller.abort(error);
          reject(error);
        },
        timeoutMs,
        true,
      );
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    timedOut.catch(() => {}); // settles the race, or nobody: never an unhandled rejection
    let outcome: HealthCheckOutcome;
    let failure: unknown;
    try {
      outcome = await Promise.race([
        Promise.resolve().then(() => indicator.check(controller.signal)),
        timedOut,
      ]);
    } catch (error) {
      failure = error;
    } finally {
      clock.clearTimeout(timer);
      this.#aborts.delete(controller);
    }
    const up =
      failure === undefined && (typeof outcome === 'object' ? outcome.up === true : outcome !== false);
    const result: HealthCheckResult = {
      name: indicator.name,
      kind: indicator.kind,
      critical: indicator.critical,
      status: up ? 'up' : 'down',
      durationMs: clock.now() - started,
      checkedAt: new Date(started).toISOString(),
    };
    if (failure !== undefined) result.error = ServiceError.from(failure).message;
    else if (!up) result.error = 'check reported down';
    if (typeof outcome === 'object' && outcome.details !== undefined) result.details = outcome.details;
    if (!up)
      logger.warn('health check down', {
        service: this.#options.serviceName,
        check: indicator.name,
        error: result.error,
      });
    this.#events.emit('check', result);
    return result;
  }
}

/** Creates the health monitor of a service (`serviceName`, `serviceVersion`, `logger`, clock, timeouts, cache). */
export function createHealthMonitor(options: HealthMonitorOptions): HealthMonitor {
  return new HealthMonitor(options);
}
