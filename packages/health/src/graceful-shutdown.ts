import { clockOption, durationMs, functionOption, loggerOption, objectOption } from '@clone/internal';
import {
  type Clock,
  type Logger,
  noopLogger,
  parseOptions,
  ServiceError,
  systemClock,
} from '@clone/service-errors';
import { z } from 'zod';
import type { HealthMonitor } from './health-monitor';

const optionsSchema = z.object({
  monitor: objectOption<HealthMonitor>(['beginShutdown', 'report'], 'must be a HealthMonitor'),
  /**
   * How long readiness is failed before draining starts: enough for every load balancer,
   * kubelet and registry to see the failed probe and stop sending (two probe periods is usual).
   */
  shutdownDelayMs: durationMs(0).default(5_000),
  /** Stops accepting and waits for requests in flight (e.g. `server.close()`, a gRPC `tryShutdown`). */
  drain: functionOption<() => Promise<unknown> | unknown>(),
  /** How long the drain may take before the process exits anyway. */
  drainTimeoutMs: durationMs().default(30_000),
  signals: z.array(z.enum(['SIGTERM', 'SIGINT', 'SIGHUP'])).default(['SIGTERM', 'SIGINT']),
  logger: loggerOption<Logger>().default(noopLogger),
  clock: clockOption<Clock>().default(systemClock),
});

/** Options of {@link gracefulShutdown}. */
export type GracefulShutdownOptions = z.input<typeof optionsSchema>;

/** What {@link gracefulShutdown} returns. */
export interface GracefulShutdown {
  /** Runs the sequence now (as a signal would); resolves when drained. Idempotent. */
  shutdown(): Promise<void>;
  /** Removes the signal listeners without shutting down. */
  dispose(): void;
}

/**
 * The shutdown order that loses no request: readiness fails first, then the service keeps
 * serving for `shutdownDelayMs` while routers notice, then it drains, then the signal takes its
 * default course (the process ends by itself). Draining first and failing readiness after, the
 * usual mistake, sends requests to a server that already stopped accepting.
 */
export function gracefulShutdown(options: GracefulShutdownOptions): GracefulShutdown {
  const { monitor, shutdownDelayMs, drain, drainTimeoutMs, signals, logger, clock } = parseOptions(
    optionsSchema,
    options,
    'gracefulShutdown',
  );
  let running: Promise<void> | undefined;
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      clock.setTimeout(resolve, ms, true);
    });

  const shutdown = (): Promise<void> => {
    running ??= (async () => {
      monitor.beginShutdown();
      logger.info('shutdown: readiness failed, waiting before draining', { shutdownDelayMs });
      await sleep(shutdownDelayMs);
      logger.info('shutdown: draining');
      let timer: unknown;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = clock.setTimeout(() => resolve('timeout'), drainTimeoutMs, true);
      });
      try {
        const outcome = await Promise.race([Promise.resolve().then(drain), timedOut]);
        if (outcome === 'timeout') logger.warn('shutdown: drain timed out', { drainTimeoutMs });
        else logger.info('shutdown: drained');
      } catch (error) {
        logger.error('shutdown: drain failed', { error: ServiceError.from(error).message });
      } finally {
        clock.clearTimeout(timer);
      }
    })();
    return running;
  };

  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const signal of signals) {
    const handler = (): void => {
      dispose();
      void shutdown().then(() => {
        // Ours was the only handler: let the signal do what it would have done without us.
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    };
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
  function dispose(): void {
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
    handlers.clear();
  }
  return { shutdown, dispose };
}
