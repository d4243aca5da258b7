export { type GracefulShutdown, type GracefulShutdownOptions, gracefulShutdown } from './graceful-shutdown';
export { bindGrpcHealth, type GrpcHealthOptions } from './grpc-health';
export { type CheckOptions, type EtcdStatusClient, HealthChecks } from './health-checks';
export type { HealthCheckOutcome, HealthIndicator } from './health-indicator';
export {
  createHealthMonitor,
  type HealthCheckResult,
  HealthMonitor,
  type HealthMonitorEvents,
  type HealthMonitorOptions,
  type HealthReport,
} from './health-monitor';
export { createHealthRoutes, type HealthRoutesOptions } from './health-routes';
