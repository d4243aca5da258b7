import type { HealthService } from '@clone/service-discovery';
import type { Unsubscribe } from '@clone/service-errors';
import type { HealthMonitor } from './health-monitor';

/** Options of {@link bindGrpcHealth}. */
export interface GrpcHealthOptions {
  /**
   * The gRPC services (full names, e.g. `clone.asr.v1.AsrService`) whose status follows
   * readiness too, besides `''` (the whole server).
   */
  services?: readonly string[];
  /** How often readiness is re-evaluated for `Watch` streams, in ms (default 5 000). */
  intervalMs?: number;
}

/**
 * Drives a `grpc.health.v1` service (the one `createServiceServer` serves) from a monitor:
 * SERVING while ready, NOT_SERVING otherwise, so `Check`, `Watch` and the HTTP routes give the
 * same answer. Readiness is re-evaluated every `intervalMs` and on every HTTP probe. Returns the
 * unbinding.
 */
export function bindGrpcHealth(
  monitor: HealthMonitor,
  health: HealthService,
  options: GrpcHealthOptions = {},
): Unsubscribe {
  const names = ['', ...(options.services ?? [])];
  const set = (ready: boolean): void => {
    for (const name of names) health.setStatus(name, ready ? 'SERVING' : 'NOT_SERVING');
  };
  const offReadiness = monitor.on('readiness', ({ ready }) => set(ready));
  const stopPolling = monitor.poll(options.intervalMs ?? 5_000);
  // The first evaluation sets the status now rather than an interval from now.
  monitor.report().then(
    (report) => set(report.ready),
    () => set(false),
  );
  return () => {
    offReadiness();
    stopPolling();
  };
}
