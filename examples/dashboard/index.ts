export { type Dashboard, type DashboardOptions, startDashboard } from './dashboard-server';
export type { DashboardSnapshot, ServiceTile } from './snapshot';
