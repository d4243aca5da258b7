/**
 * Turns what the OpenTelemetry SDK collected (cumulative points of the @clone metrics) into
 * what the dashboard shows: per callee its circuit state, calls/s and error % over the last
 * interval, p50/p99 latency over a sliding window, retries and rejections; saga outcomes; event
 * bus counts. Rates and percentiles come from differences between collections, so a recovered
 * service's tile shows its recovery rather than an all-time average.
 */
import { CIRCUIT_STATE_VALUE, MetricNames as M } from '@clone/telemetry';
import type { DataPoint, Histogram, ResourceMetrics } from '@opentelemetry/sdk-metrics';

/** One callee's tile. */
export interface ServiceTile {
  service: string;
  state: 'CLOSED' | 'HALF_OPEN' | 'OPEN';
  /** Calls finished per second over the last interval. */
  callsPerSecond: number;
  /** Failed calls among those of the last interval, in percent (null: no call). */
  errorPercent: number | null;
  /** Latency percentiles in ms over the window (null: no call in it). */
  p50Ms: number | null;
  p99Ms: number | null;
  calls: number;
  retries: number;
  rejections: number;
  transitions: number;
}

/** What the page receives at each update. */
export interface DashboardSnapshot {
  at: number;
  services: ServiceTile[];
  sagas: Record<string, number>;
  /** Present once an event bus is instrumented. */
  events: Record<string, number> | undefined;
}

/** The cumulative state of one callee at one collection. */
interface Totals {
  calls: number;
  errors: number;
  buckets: { boundaries: number[]; counts: number[] } | undefined;
}

const STATE_NAMES = Object.fromEntries(
  Object.entries(CIRCUIT_STATE_VALUE).map(([name, value]) => [value, name]),
) as Record<number, ServiceTile['state']>;

/**
 * Keeps the last collections and makes snapshots. `windowMs`: the span of the latency
 * percentiles. Time comes from the caller (`now`), so the arithmetic is testable.
 */
export class SnapshotBuilder {
  readonly #windowMs: number;
  #history: Array<{ at: number; totals: Map<string, Totals> }> = [];

  constructor(windowMs = 10_000) {
    this.#windowMs = windowMs;
  }

  build(metrics: ResourceMetrics, now: number): DashboardSnapshot {
    const points = byName(metrics);
    const totals = new Map<string, Totals>();
    for (const p of points.get(M.rpcClientDuration) ?? []) {
      const service = String(p.attributes['rpc.service']);
      const h = p.value as Histogram;
      const t = totals.get(service) ?? { calls: 0, errors: 0, buckets: undefined };
      t.calls += h.count;
      if (p.attributes['rpc.grpc.status_code'] !== 0) t.errors += h.count;
      t.buckets = addBuckets(t.buckets, h.buckets);
      totals.set(service, t);
    }
    const previous = this.#history.at(-1);
    const oldest = this.#history.find((h) => now - h.at <= this.#windowMs) ?? previous;
    this.#history.push({ at: now, totals });
    this.#history = this.#history.filter((h) => now - h.at <= this.#windowMs * 2);

    const states = sumBy(points.get(M.circuitState), 'rpc.service');
    const services = new Set([...totals.keys(), ...states.keys()]);
    const retries = sumBy(points.get(M.retryAttempts), 'rpc.service');
    const rejections = sumBy(points.get(M.circuitRejections), 'rpc.service');
    const transitions = sumBy(points.get(M.circuitTransitions), 'rpc.service');
    const tiles = [...services].sort().map((service): ServiceTile => {
      const t = totals.get(service) ?? { calls: 0, errors: 0, buckets: undefined };
      const before = previous?.totals.get(service);
      const seconds = previous === undefined ? 0 : (now - previous.at) / 1000;
      const calls = t.calls - (before?.calls ?? 0);
      const errors = t.errors - (before?.errors ?? 0);
      const windowed = diffBuckets(t.buckets, oldest?.totals.get(service)?.buckets);
      return {
        service,
        state: STATE_NAMES[states.get(service) ?? 0] ?? 'CLOSED',
        callsPerSecond: seconds > 0 ? calls / seconds : 0,
        errorPercent: calls > 0 ? (100 * errors) / calls : null,
        p50Ms: percentile(windowed, 0.5),
        p99Ms: percentile(windowed, 0.99),
        calls: t.calls,
        retries: retries.get(service) ?? 0,
        rejections: rejections.get(service) ?? 0,
        transitions: transitions.get(service) ?? 0,
      };
    });
    const sagas: Record<string, number> = { started: sum(points.get(M.sagaStarted)) };
    for (const [outcome, n] of sumBy(points.get(M.sagaEnded), 'clone.saga.outcome')) sagas[outcome] = n;
    const published = points.get(M.eventsPublished);
    const events =
      published === undefined
        ? undefined
        : {
            published: sum(published),
            handled: sum(points.get(M.eventsHandled)),
            failed: sum(points.get(M.eventsFailed)),
            retried: sum(points.get(M.eventsRetried)),
            deadLettered: sum(points.get(M.eventsDeadLettered)),
          };
    return { at: now, services: tiles, sagas, events };
  }
}

type Buckets = { boundaries: number[]; counts: number[] };

function byName(metrics: ResourceMetrics): Map<string, DataPoint<unknown>[]> {
  const out = new Map<string, DataPoint<unknown>[]>();
  for (const scope of metrics.scopeMetrics)
    for (const m of scope.metrics)
      out.set(m.descriptor.name, [
        ...(out.get(m.descriptor.name) ?? []),
        ...(m.dataPoints as DataPoint<unknown>[]),
      ]);
  return out;
}

function sum(points: DataPoint<unknown>[] | undefined): number {
  return (points ?? []).reduce((n, p) => n + (p.value as number), 0);
}

function sumBy(points: DataPoint<unknown>[] | undefined, key: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of points ?? []) {
    const k = String(p.attributes[key]);
    out.set(k, (out.get(k) ?? 0) + (p.value as number));
  }
  return out;
}

function addBuckets(into: Buckets | undefined, from: Buckets): Buckets {
  if (into === undefined) return { boundaries: from.boundaries, counts: [...from.counts] };
  from.counts.forEach((c, i) => {
    into.counts[i] = (into.counts[i] ?? 0) + c;
  });
  return into;
}

function diffBuckets(now: Buckets | undefined, before: Buckets | undefined): Buckets | undefined {
  if (now === undefined) return undefined;
  if (before === undefined) return now;
  return { boundaries: now.boundaries, counts: now.counts.map((c, i) => c - (before.counts[i] ?? 0)) };
}

/**
 * The `q` quantile of a histogram, interpolated linearly inside its bucket (the last, open
 * bucket reports its lower bound). `null` without observations.
 */
export function percentile(buckets: Buckets | undefined, q: number): number | null {
  if (buckets === undefined) return null;
  const total = buckets.counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < buckets.counts.length; i++) {
    const count = buckets.counts[i]!;
    if (count > 0 && seen + count >= rank) {
      const lower = i === 0 ? 0 : buckets.boundaries[i - 1]!;
      const upper = buckets.boundaries[i];
      if (upper === undefined) return lower;
      return lower + ((upper - lower) * (rank - seen)) / count;
    }
    seen += count;
  }
  return buckets.boundaries.at(-1) ?? null;
}
