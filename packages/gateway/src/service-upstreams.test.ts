import type { ServiceInstance } from '@clone/service-discovery';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayEvents } from './gateway-events';
import { type OutlierSettings, ServiceUpstreams } from './service-upstreams';

const instance = (id: string, port: number): ServiceInstance =>
  Object.freeze({
    serviceId: id,
    serviceName: 's',
    host: '127.0.0.1',
    port,
    protocol: 'http' as const,
    weight: 1,
  });

const outliers: OutlierSettings = {
  consecutiveFailures: 3,
  consecutiveConnectFailures: 1,
  baseEjectionMs: 1_000,
  maxEjectionMs: 5_000,
  maxEjectionPercent: 50,
  slowStartMs: 10_000,
};

let made: ServiceUpstreams[] = [];
afterEach(async () => {
  await Promise.all(made.map((m) => m.close()));
  made = [];
});

function upstreams(ids: string[], settings = outliers) {
  let now = 0;
  const events: GatewayEvents['rotation'][] = [];
  let push: (list: readonly ServiceInstance[]) => void = () => undefined;
  const discovery = {
    watch: (_name: string, listener: (list: readonly ServiceInstance[]) => void) => {
      push = listener;
      listener(ids.map((id, i) => instance(id, 40_000 + i)));
      return () => undefined;
    },
  };
  const pool = { connections: 1, headersTimeoutMs: 1_000, bodyTimeoutMs: 1_000 };
  const s = new ServiceUpstreams(
    's',
    discovery,
    settings,
    pool,
    () => now,
    (e) => events.push(e),
  );
  made.push(s);
  const byId = (id: string) => s.upstreams.find((u) => u.instance.serviceId === id)!;
  const picks = (n: number) => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const id = s.pick()!.instance.serviceId;
      counts[id] = (counts[id] ?? 0) + 1;
    }
    return counts;
  };
  return { s, events, byId, picks, push, advance: (ms: number) => (now += ms) };
}

describe('ServiceUpstreams', () => {
  it('round-robins evenly over equal weights', () => {
    const { picks } = upstreams(['a', 'b', 'c']);
    expect(picks(300)).toEqual({ a: 100, b: 100, c: 100 });
  });

  it('ejects after the consecutive failures (a success resets the count), for longer each time', () => {
    const { s, byId, events, advance } = upstreams(['a', 'b', 'c', 'd']);
    const a = byId('a');
    s.failed(a, 'status');
    s.failed(a, 'status');
    s.succeeded(a);
    s.failed(a, 'status');
    s.failed(a, 'status');
    expect(a.state).toBe('healthy');
    s.failed(a, 'status');
    expect(a.state).toBe('ejected');
    expect(events).toEqual([
      { service: 's', serviceId: 'a', from: 'healthy', to: 'ejected', reason: 'failures' },
    ]);
    advance(999);
    expect(s.available).toBe(3);
    advance(1);
    expect(s.available).toBe(4);
    expect(events.at(-1)).toMatchObject({ serviceId: 'a', to: 'healthy', reason: 'ejection-expired' });
    s.failed(a, 'connect');
    expect(a.ejectedUntil).toBe(1_000 + 2_000);
  });

  it('never ejects more than maxEjectionPercent of the service', () => {
    const { s, byId } = upstreams(['a', 'b', 'c', 'd']);
    for (const id of ['a', 'b', 'c', 'd']) s.failed(byId(id), 'connect');
    expect(s.upstreams.map((u) => u.state)).toEqual(['ejected', 'ejected', 'healthy', 'healthy']);
    const single = upstreams(['only']);
    single.s.failed(single.byId('only'), 'connect');
    expect(single.byId('only').state).toBe('healthy');
  });

  it('ramps a returning instance up from 10% of its share over slowStartMs', () => {
    const { s, byId, picks, advance } = upstreams(['a', 'b']);
    s.failed(byId('a'), 'connect');
    s.checked(byId('a'), true, 2);
    const early = picks(1_100);
    expect(early.a! / 1_100).toBeCloseTo(0.1 / 1.1, 2);
    advance(5_000);
    const middle = picks(1_550);
    expect(middle.a! / 1_550).toBeCloseTo(0.55 / 1.55, 2);
    advance(5_000);
    expect(picks(200)).toEqual({ a: 100, b: 100 });
  });

  it('follows discovery: new instances join (slow-started), removed ones leave', () => {
    const { s, push } = upstreams(['a']);
    push([instance('a', 40_000), instance('b', 40_001)]);
    expect(s.upstreams.map((u) => u.instance.serviceId)).toEqual(['a', 'b']);
    expect(s.upstreams[1]!.weight(0, outliers.slowStartMs)).toBeCloseTo(0.1);
    push([instance('b', 40_001)]);
    expect(s.upstreams.map((u) => u.instance.serviceId)).toEqual(['b']);
  });
});
