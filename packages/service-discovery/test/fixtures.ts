/** Helpers shared by this package's tests. */
import { isServiceError, type ServiceError } from '@clone/service-errors';
import type { ServiceRegistration } from '../src/instance';

/** The n-th `asr` instance on loopback, with `extra` fields. */
export const asr = (n: number, extra: Partial<ServiceRegistration> = {}): ServiceRegistration => ({
  serviceId: `asr-${n}`,
  serviceName: 'asr',
  host: '127.0.0.1',
  port: 50050 + n,
  protocol: 'grpc',
  ...extra,
});

/** The ServiceError `fn` throws synchronously; fails the test when it throws nothing or something else. */
export const thrown = (fn: () => unknown): ServiceError => {
  try {
    fn();
  } catch (error) {
    if (isServiceError(error)) return error;
    throw error;
  }
  throw new Error('did not throw');
};
