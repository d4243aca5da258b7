export { createGateway, Gateway } from './gateway';
export type { GatewayHealth } from './gateway-endpoints';
export type { GatewayEvents, RotationReason } from './gateway-events';
export type { GatewayMount, GatewayOptions } from './gateway-options';
export type { GatewayRoute } from './route-table';
export type { GatewayDiscovery } from './service-upstreams';
export type { UpstreamState } from './upstream';
