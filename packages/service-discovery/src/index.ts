export type { BackendConnection, BackendListener, RegistryBackend } from './backend';
export { type DefaultHealthCheckOptions, defaultHealthCheck, type HealthCheck } from './health-check';
export {
  type HealthCheckRequest,
  type HealthCheckResponse,
  HealthClient,
  healthServiceDefinition,
  type ServingStatus,
} from './health-proto';
export { HealthService } from './health-service';
export {
  hostPort,
  parseInstance,
  type ServiceInstance,
  type ServiceProtocol,
  type ServiceRegistration,
} from './instance';
export {
  createLoadBalancer,
  LeastOutstandingBalancer,
  type LoadBalancer,
  type LoadBalancerFactory,
  type LoadBalancerName,
  RandomBalancer,
  type RandomSource,
  RoundRobinBalancer,
  WeightedBalancer,
} from './load-balancer';
export { InMemoryBackend } from './memory-backend';
export {
  type HealthStatus,
  ServiceRegistry,
  type ServiceRegistryEvents,
  type ServiceRegistryOptions,
} from './registry';
export { CLONE_SCHEME, type CloneResolverOptions, registerCloneResolver } from './resolver';
