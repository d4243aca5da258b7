import { describe, expect, it } from 'vitest';
import { RouteTable } from './route-table';

const table = new RouteTable(
  [
    { path: '/api/v1/users/*', service: 'user-service' },
    { path: '/api/v1/users/admin/*', service: 'admin-service' },
    { path: '/api/v1/auth/*', service: 'user-service', auth: false },
    { path: '/internal/*', service: 'ops', stripPrefix: '' },
  ],
  '/api/v1',
);

describe('RouteTable', () => {
  it.each([
    ['/api/v1/users', 'user-service'],
    ['/api/v1/users/', 'user-service'],
    ['/api/v1/users/42', 'user-service'],
    ['/api/v1/users/admin/x', 'admin-service'],
    ['/api/v1/usersX', undefined],
    ['/api/v1/auth/login', 'user-service'],
    ['/internal/metrics', 'ops'],
    ['/api/v2/users', undefined],
  ])('%s → %s (longest prefix, whole segments)', (path, service) => {
    expect(table.match(path)?.service).toBe(service);
  });

  it('defaults auth on and strips the default prefix unless told otherwise', () => {
    expect(table.match('/api/v1/users/1')).toMatchObject({ auth: true, stripPrefix: '/api/v1' });
    expect(table.match('/api/v1/auth/login')?.auth).toBe(false);
    expect(table.match('/internal/x')?.stripPrefix).toBe('');
    expect(table.services()).toEqual(['admin-service', 'user-service', 'ops']);
  });
});
