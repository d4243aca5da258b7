import { RateLimiter } from '@clone/rate-limit';
import { ServiceRegistry } from '@clone/service-discovery';
import { ServiceError } from '@clone/service-errors';
import { describe, expect, it } from 'vitest';
import { createGateway, type GatewayOptions } from '../src/index';

function failure(options: Partial<GatewayOptions>): ServiceError {
  const discovery = new ServiceRegistry();
  try {
    createGateway({
      routes: [{ path: '/api/v1/users/*', service: 'user-service', auth: false }],
      discovery,
      ...options,
    });
  } catch (error) {
    return error as ServiceError;
  } finally {
    void discovery.close();
  }
  throw new Error('createGateway accepted the options');
}

describe('options', () => {
  it.each([
    ['routes', { routes: [] }, 'Gateway: routes must list at least one route'],
    ['routes.0.path', { routes: [{ path: 'users/*', service: 's' }] }, 'routes.0.path'],
    [
      'routes.1.path',
      {
        routes: [
          { path: '/a/*', service: 's', auth: false, stripPrefix: '' },
          { path: '/a', service: 't', auth: false, stripPrefix: '' },
        ],
      },
      'is listed twice',
    ],
    ['routes.0.service', { routes: [{ path: '/api/v1/x/*', service: '' }] }, 'routes.0.service'],
    [
      'routes.0.service',
      { routes: [{ path: '/api/v1/x/*', service: '__proto__', auth: false }] },
      'routes.0.service',
    ],
    [
      'routes.0.stripPrefix',
      { routes: [{ path: '/api/v1/x/*', service: 's', auth: false, stripPrefix: '/v2' }] },
      'stripPrefix',
    ],
    [
      'routes.0.auth',
      { routes: [{ path: '/api/v1/x/*', service: 's', auth: 'false' }] },
      'routes.0.auth must be true or false, got "false"',
    ],
    [
      'routes.0.stripPrefx',
      { routes: [{ path: '/api/v1/x/*', service: 's', auth: false, stripPrefx: '' }] },
      'routes.0.stripPrefx is not a route option',
    ],
    [
      'routes.0.rateLimit',
      { routes: [{ path: '/api/v1/x/*', service: 's', auth: false, rateLimit: 3 }] },
      'routes.0.rateLimit must name a route of the rate limiter, got 3',
    ],
    ['auth', { routes: [{ path: '/api/v1/x/*', service: 's' }] }, "route '/api/v1/x/*' has auth on"],
    ['discovery', { discovery: {} as never }, 'discovery must be a discovery source'],
    ['healthCheckIntervalMs', { healthCheckIntervalMs: -1 }, 'healthCheckIntervalMs'],
    [
      'outlierDetection.maxEjectionPercent',
      { outlierDetection: { maxEjectionPercent: 150 } },
      'maxEjectionPercent',
    ],
    ['retry.maxAttempts', { retry: { maxAttempts: 0 } }, 'retry.maxAttempts'],
    ['mounts.0', { mounts: [{ prefix: '/registry' }] as never }, 'must have handle(req, res)'],
    [
      'routes.0.rateLimit',
      { routes: [{ path: '/api/v1/x/*', service: 's', auth: false, rateLimit: 'payments' }] },
      'needs the rateLimits option',
    ],
    [
      'routes.0.rateLimit',
      {
        routes: [{ path: '/api/v1/x/*', service: 's', auth: false, rateLimit: 'nope' }],
        rateLimits: new RateLimiter({ tiers: [{ limit: 1, windowMs: 1_000 }] }),
      },
      "names no route of the rate limiter, got 'nope'",
    ],
    ['colour', { colour: 'blue' } as never, "unknown option 'colour'"],
  ])('refuses a bad %s with BAD_REQUEST naming it', (field, options, text) => {
    const error = failure(options as Partial<GatewayOptions>);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.metadata?.field).toBe(field);
    expect(error.message).toContain(text);
  });
});
