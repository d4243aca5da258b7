import { afterEach } from 'vitest';
import type { ServiceCommunicationConfig } from '../config';
import { ServiceCommunicationManager } from '../service-communication-manager';
import { TEST_SECRET } from './servers';

/** Registers an afterEach that runs what the test deferred, last first; returns `defer`. */
export function useCleanups(): (fn: () => Promise<void> | void) => void {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  return (fn) => {
    cleanups.push(fn);
  };
}

/** A manager with the test secret and fast retries, closed after the test by `defer`. */
export function testManager(
  defer: (fn: () => Promise<void>) => void,
  extra: Partial<ServiceCommunicationConfig> = {},
): ServiceCommunicationManager {
  const m = new ServiceCommunicationManager({
    serviceId: 'gateway-1',
    serviceName: 'gateway',
    jwtSecret: TEST_SECRET,
    retry: { initialDelayMs: 1, maxDelayMs: 5 },
    ...extra,
  });
  defer(() => m.close());
  return m;
}

/** A clock running `aheadMs` in front of the system clock: what reads it shows the offset. */
export function aheadClock(aheadMs: number) {
  return {
    now: () => Date.now() + aheadMs,
    setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
    clearTimeout: (t: unknown) => clearTimeout(t as NodeJS.Timeout),
  };
}
