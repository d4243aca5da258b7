import { isServiceError, type ServiceError } from '@clone/service-errors';
import { expect } from 'vitest';

/** Shared by this package's tests: token pieces and rejection readers. */

/** base64url of a string, or of a value's JSON. */
export function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** The ServiceError `fn` throws (fails the test otherwise). */
export function rejection(fn: () => unknown): ServiceError {
  try {
    fn();
  } catch (error) {
    expect(isServiceError(error)).toBe(true);
    return error as ServiceError;
  }
  throw new Error('expected a rejection');
}

/** The `metadata.reason` of the ServiceError `fn` throws (fails the test otherwise). */
export function reasonOf(fn: () => unknown): unknown {
  return rejection(fn).metadata?.reason;
}

/** Valid service-token claims issued now for ten minutes, with `overrides` applied. */
export function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = Math.floor(Date.now() / 1000);
  return {
    sub: 'ws-1',
    serviceId: 'ws-1',
    serviceName: 'websocket-server',
    permissions: ['asr:read'],
    iat,
    exp: iat + 600,
    ...overrides,
  };
}
