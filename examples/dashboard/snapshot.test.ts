import { MetricNames } from '@clone/telemetry';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { percentile, SnapshotBuilder } from './snapshot';

const boundaries = [10, 20, 50];

function collected(counts: number[], errors: number, state: number): ResourceMetrics {
  const attributes = { 'rpc.service': 'tts', 'rpc.grpc.status_code': 0 };
  const histogram = (c: number[], a: Record<string, unknown>) => ({
    attributes: a,
    value: { count: c.reduce((x, y) => x + y, 0), buckets: { boundaries, counts: c } },
  });
  return {
    resource: {},
    scopeMetrics: [
      {
        scope: { name: 't' },
        metrics: [
          {
            descriptor: { name: MetricNames.rpcClientDuration },
            dataPoints: [
              histogram(counts, attributes),
              histogram([0, 0, 0, errors], { ...attributes, 'rpc.grpc.status_code': 14 }),
            ],
          },
          { descriptor: { name: MetricNames.circuitState }, dataPoints: [{ attributes, value: state }] },
        ],
      },
    ],
  } as unknown as ResourceMetrics;
}

describe('percentile', () => {
  it('interpolates inside the bucket holding the rank', () => {
    expect(percentile({ boundaries, counts: [0, 10, 0, 0] }, 0.5)).toBe(15);
    expect(percentile({ boundaries, counts: [5, 5, 0, 0] }, 0.99)).toBeCloseTo(19.8);
    expect(percentile({ boundaries, counts: [0, 0, 0, 3] }, 0.5)).toBe(50);
    expect(percentile({ boundaries, counts: [0, 0, 0, 0] }, 0.5)).toBeNull();
  });
});

describe('SnapshotBuilder', () => {
  it('gives rates and error % over the last interval and percentiles over the window', () => {
    const b = new SnapshotBuilder(10_000);
    b.build(collected([4, 0, 0, 0], 0, 0), 0);
    const s = b.build(collected([4, 2, 0, 0], 2, 2), 2_000);
    expect(s.services).toEqual([
      expect.objectContaining({
        service: 'tts',
        state: 'OPEN',
        calls: 8,
        callsPerSecond: 2,
        errorPercent: 50,
      }),
    ]);
    // The window still holds the first collection: only the 4 newer calls count.
    expect(s.services[0]!.p50Ms).toBe(20);
  });
});
