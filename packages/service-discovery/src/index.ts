export type { BackendConnection, BackendListener, RegistryBackend } from './backend';
export type { BackendWriteError } from './backend-sync';
export {
  createServiceDiscoveryClient,
  ServiceDiscoveryClient,
  type ServiceDiscoveryClientEvents,
} from './discovery-client';
export type { ServiceDiscoveryClientOptions } from './discovery-client-options';
export { type DefaultHealthCheckOptions, defaultHealthCheck, type HealthCheck } from './health-check';
export type { HealthChange, HealthCheckResult, HealthStatus } from './health-monitor';
export {
  type HealthCheckRequest,
  type HealthCheckResponse,
  HealthClient,
  healthServiceDefinition,
  type ServingStatus,
} from './health-proto';
export { HealthService } from './health-service';
export type { HttpServiceRegistration } from './http-registration';
export {
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
export { ServiceRegistry, type ServiceRegistryEvents } from './registry';
export {
  createRegistryHttpApi,
  type RegisteredService,
  type RegistrationLease,
  type RegistryApiResponse,
  type RegistryHttpApi,
  type RegistryHttpApiOptions,
} from './registry-http-api';
export type { ServiceRegistryOptions } from './registry-options';
export {
  CLONE_SCHEME,
  type CloneResolverOptions,
  type CloneResolverRegistration,
  registerCloneResolver,
} from './resolver';
