import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInstance, type ServiceInstance } from './instance';
import {
  createLoadBalancer,
  LeastOutstandingBalancer,
  RandomBalancer,
  RoundRobinBalancer,
  WeightedBalancer,
} from './load-balancer';

const instances = (n: number, weight: (i: number) => number = () => 1): ServiceInstance[] =>
  Array.from({ length: n }, (_, i) =>
    parseInstance({
      serviceId: `s-${i}`,
      serviceName: 's',
      host: '127.0.0.1',
      port: 1000 + i,
      protocol: 'grpc',
      weight: weight(i),
    }),
  );

/** A deterministic random source cycling through the given values. */
const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

describe('load balancers', () => {
  it('return undefined when there is nothing to pick', () => {
    for (const name of ['round-robin', 'random', 'weighted', 'least-outstanding'] as const) {
      const balancer = createLoadBalancer(name);
      expect(balancer.pick()).toBeUndefined();
      balancer.update([]);
      expect(balancer.pick()).toBeUndefined();
    }
  });

  it('round robin visits every instance once per cycle, in registration order', () => {
    const list = instances(4);
    const balancer = new RoundRobinBalancer();
    balancer.update(list);
    const picked = Array.from({ length: 8 }, () => balancer.pick()!.serviceId);
    expect(picked).toEqual(['s-0', 's-1', 's-2', 's-3', 's-0', 's-1', 's-2', 's-3']);
  });

  it('round robin keeps its place across updates and stays in range when the set shrinks', () => {
    const balancer = new RoundRobinBalancer();
    balancer.update(instances(5));
    expect([balancer.pick(), balancer.pick()].map((i) => i?.serviceId)).toEqual(['s-0', 's-1']);
    balancer.update(instances(5)); // a health change elsewhere: no jump back, no repeat
    expect(balancer.pick()?.serviceId).toBe('s-2');
    balancer.update(instances(2));
    expect(balancer.pick()?.serviceId).toBe('s-0');
    expect(balancer.pick()?.serviceId).toBe('s-1');
  });

  it('random maps the random source onto the instances', () => {
    const balancer = new RandomBalancer(sequence(0, 0.26, 0.99));
    balancer.update(instances(4));
    expect([balancer.pick(), balancer.pick(), balancer.pick()].map((i) => i?.serviceId)).toEqual([
      's-0',
      's-1',
      's-3',
    ]);
  });

  it('weighted: the alias table gives every instance exactly its share of the weight', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 40 }), (weights) => {
        const list = instances(weights.length, (i) => weights[i]!);
        // Sweeping the random source over a fine uniform grid integrates the exact distribution.
        const steps = weights.length * 20_000;
        let k = 0;
        const balancer = new WeightedBalancer(() => (k++ + 0.5) / steps);
        balancer.update(list);
        const counts = new Map<string, number>();
        for (let i = 0; i < steps; i++) {
          const id = balancer.pick()!.serviceId;
          counts.set(id, (counts.get(id) ?? 0) + 1);
        }
        const total = weights.reduce((a, b) => a + b, 0);
        list.forEach((instance, i) => {
          expect(Math.abs((counts.get(instance.serviceId) ?? 0) / steps - weights[i]! / total)).toBeLessThan(
            0.002,
          );
        });
      }),
      { numRuns: 30 },
    );
  });

  it('least-outstanding prefers the less loaded of two random choices and counts until release', () => {
    const list = instances(3);
    // Draws: a = floor(r * 3), b = floor(r * 2) shifted past a.
    const balancer = new LeastOutstandingBalancer(sequence(0, 0));
    balancer.update(list);
    expect(balancer.pick()?.serviceId).toBe('s-0'); // a=0, b=1: tie, first wins
    expect(balancer.outstanding('s-0')).toBe(1);
    expect(balancer.pick()?.serviceId).toBe('s-1'); // a=0 (1 in flight), b=1 (0 in flight)
    expect(balancer.pick()?.serviceId).toBe('s-0'); // tie again at 1 each
    balancer.release(list[0]!);
    balancer.release(list[0]!);
    balancer.release(list[0]!); // never below zero
    expect(balancer.outstanding('s-0')).toBe(0);
    expect(balancer.outstanding('s-1')).toBe(1);
  });

  it('least-outstanding keeps counts of instances that survive an update', () => {
    const list = instances(3);
    const balancer = new LeastOutstandingBalancer(sequence(0.9, 0.9));
    balancer.update(list);
    expect(balancer.pick()?.serviceId).toBe('s-2'); // a=2, b=1: tie, first wins
    balancer.update([list[1]!, list[2]!]);
    expect(balancer.outstanding('s-2')).toBe(1);
    expect(balancer.outstanding('s-1')).toBe(0);
    balancer.release(list[0]!); // no longer a candidate: ignored
    balancer.release(list[2]!);
    expect(balancer.outstanding('s-2')).toBe(0);
  });

  it('least-outstanding releases a call picked before its instance was re-registered', () => {
    const balancer = new LeastOutstandingBalancer(sequence(0));
    const [one] = instances(1);
    balancer.update([one!]);
    const picked = balancer.pick()!;
    const updated = parseInstance({ ...one!, weight: 7 });
    balancer.update([updated]);
    expect(balancer.outstanding('s-0')).toBe(1);
    balancer.release(picked);
    expect(balancer.outstanding('s-0')).toBe(0);
  });

  it('least-outstanding spreads load under a real random source', () => {
    const list = instances(10);
    const balancer = new LeastOutstandingBalancer();
    balancer.update(list);
    // Calls that never end: P2C keeps the spread of in-flight counts tight.
    for (let i = 0; i < 1000; i++) balancer.pick();
    const counts = list.map((i) => balancer.outstanding(i.serviceId));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(6);
  });
});
