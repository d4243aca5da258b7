import { systemClock } from '@clone/service-errors';
import { describe, expect, it } from 'vitest';
import { parseInstance } from './instance';
import { RegistrationLeases } from './registration-leases';

const at = (id: string) =>
  parseInstance({ serviceId: id, serviceName: 's', host: '127.0.0.1', port: 1, protocol: 'http' });

describe('RegistrationLeases', () => {
  let now = 0;
  const clock = {
    now: () => now,
    setTimeout: systemClock.setTimeout,
    clearTimeout: systemClock.clearTimeout,
  };

  it('expires a lease exactly at its ttl, and renewing moves it to the back', () => {
    now = 0;
    const leases = new RegistrationLeases(100, clock);
    leases.grant(at('a'));
    now = 10;
    leases.grant(at('b'));
    now = 50;
    expect(leases.renew('a')?.expiresAt).toBe(150);
    now = 109;
    expect(leases.takeExpired()).toEqual([]);
    now = 110;
    expect(leases.takeExpired()).toEqual(['b']);
    expect(leases.get('b')).toBeUndefined();
    now = 150;
    expect(leases.takeExpired()).toEqual(['a']);
  });

  it('renews only what it holds; delete and clear drop leases', () => {
    now = 0;
    const leases = new RegistrationLeases(100, clock);
    expect(leases.renew('nobody')).toBeUndefined();
    leases.grant(at('a'));
    leases.grant(at('b'));
    expect(leases.delete('a')).toBe(true);
    expect(leases.delete('a')).toBe(false);
    expect(leases.clear()).toEqual(['b']);
    now = 1_000;
    expect(leases.takeExpired()).toEqual([]);
  });
});
