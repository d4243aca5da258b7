import type { ServiceInstance } from '@clone/service-discovery';
import type { Unsubscribe } from '@clone/service-errors';
import type { GatewayEvents, RotationReason } from './gateway-events';
import { Upstream, type UpstreamPoolOptions, type UpstreamState } from './upstream';

/** Where the gateway learns a service's instances: a `ServiceRegistry` (memory or etcd) fits. */
export interface GatewayDiscovery {
  /** Calls `listener` with the instances of `serviceName` now and whenever they change. */
  watch(serviceName: string, listener: (instances: readonly ServiceInstance[]) => void): Unsubscribe;
}

/** Passive outlier detection and slow start, as parsed. @internal */
export interface OutlierSettings {
  consecutiveFailures: number;
  consecutiveConnectFailures: number;
  baseEjectionMs: number;
  maxEjectionMs: number;
  maxEjectionPercent: number;
  slowStartMs: number;
}

/** What a failed attempt was, for outlier detection. @internal */
export type FailureKind = 'connect' | 'status';

type Notify = (event: GatewayEvents['rotation']) => void;

/**
 * The instances of one service behind the gateway: kept in step with discovery, picked by
 * smooth weighted round robin (slow start scales the weight), ejected on consecutive failures
 * with at most `maxEjectionPercent` of the service out at once, so an outage of the gateway's
 * own making (a bad network path, a shared dependency) never empties a service. @internal
 */
export class ServiceUpstreams {
  readonly name: string;
  readonly #byId = new Map<string, Upstream>();
  #list: Upstream[] = [];
  readonly #outliers: OutlierSettings;
  readonly #pool: UpstreamPoolOptions;
  readonly #now: () => number;
  readonly #notify: Notify;
  readonly #unwatch: Unsubscribe;

  constructor(
    name: string,
    discovery: GatewayDiscovery,
    outliers: OutlierSettings,
    pool: UpstreamPoolOptions,
    now: () => number,
    notify: Notify,
  ) {
    this.name = name;
    this.#outliers = outliers;
    this.#pool = pool;
    this.#now = now;
    this.#notify = notify;
    this.#unwatch = discovery.watch(name, (instances) => this.#sync(instances));
  }

  get upstreams(): readonly Upstream[] {
    return this.#list;
  }

  /** Instances taking traffic now. */
  get available(): number {
    let n = 0;
    for (const u of this.#list) if (this.#takesTraffic(u)) n++;
    return n;
  }

  /**
   * The next instance (smooth weighted round robin over those in rotation), or undefined when
   * none is. An ejection that has run out is lifted here, on the request path, so no timer is
   * needed per ejected instance.
   */
  pick(): Upstream | undefined {
    const now = this.#now();
    let total = 0;
    let best: Upstream | undefined;
    for (const u of this.#list) {
      if (!this.#takesTraffic(u, now)) continue;
      const w = u.weight(now, this.#outliers.slowStartMs);
      u.current += w;
      total += w;
      if (best === undefined || u.current > best.current) best = u;
    }
    if (best !== undefined) best.current -= total;
    return best;
  }

  /** A response below 500 (or a 500 the service chose to send) from `u`. */
  succeeded(u: Upstream): void {
    u.consecutiveFailures = 0;
  }

  /** A 502/503/504 or a connection failure from `u`: ejects it once the count is reached. */
  failed(u: Upstream, kind: FailureKind): void {
    u.consecutiveFailures++;
    const limit =
      kind === 'connect' ? this.#outliers.consecutiveConnectFailures : this.#outliers.consecutiveFailures;
    if (u.state !== 'healthy' || u.consecutiveFailures < limit) return;
    const ejected = this.#list.filter((x) => x.state !== 'healthy').length;
    if ((ejected + 1) * 100 > this.#list.length * this.#outliers.maxEjectionPercent) return;
    const now = this.#now();
    u.ejections++;
    const ms = Math.min(this.#outliers.baseEjectionMs * u.ejections, this.#outliers.maxEjectionMs);
    u.ejectedUntil = now + ms;
    this.#move(u, 'ejected', kind === 'connect' ? 'connect-error' : 'failures');
  }

  /** An active check of `u` passed or failed. */
  checked(u: Upstream, passed: boolean, unhealthyThreshold: number): void {
    if (passed) {
      u.failedChecks = 0;
      if (u.state !== 'healthy') this.#restore(u, 'health-check');
      return;
    }
    u.failedChecks++;
    if (u.state === 'healthy' && u.failedChecks >= unhealthyThreshold)
      this.#move(u, 'unhealthy', 'health-check');
    else if (u.state === 'ejected') u.state = 'unhealthy';
  }

  /** Stops following discovery and closes every pool. */
  async close(): Promise<void> {
    this.#unwatch();
    const closing = this.#list.map((u) => u.close());
    this.#list = [];
    this.#byId.clear();
    await Promise.allSettled(closing);
  }

  #takesTraffic(u: Upstream, now = this.#now()): boolean {
    if (u.state === 'healthy') return true;
    if (u.state === 'ejected' && now >= u.ejectedUntil) {
      this.#restore(u, 'ejection-expired');
      return true;
    }
    return false;
  }

  #restore(u: Upstream, reason: RotationReason): void {
    u.consecutiveFailures = 0;
    u.failedChecks = 0;
    u.returnedAt = this.#now();
    this.#move(u, 'healthy', reason);
  }

  #move(u: Upstream, to: UpstreamState, reason: RotationReason): void {
    const from = u.state;
    if (from === to) return;
    u.state = to;
    this.#notify({ service: this.name, serviceId: u.instance.serviceId, from, to, reason });
  }

  #sync(instances: readonly ServiceInstance[]): void {
    const next = new Map<string, Upstream>();
    for (const instance of instances) {
      if (instance.protocol !== 'http') continue;
      const existing = this.#byId.get(instance.serviceId);
      if (
        existing !== undefined &&
        existing.instance.host === instance.host &&
        existing.instance.port === instance.port
      ) {
        next.set(instance.serviceId, existing);
        continue;
      }
      const fresh = new Upstream(instance, this.#pool);
      // A newcomer ramps up like a returning instance when others already carry the traffic.
      if (this.#list.length > 0) fresh.returnedAt = this.#now();
      next.set(instance.serviceId, fresh);
    }
    for (const [id, u] of this.#byId) if (next.get(id) !== u) void u.close().catch(() => undefined);
    this.#byId.clear();
    for (const [id, u] of next) this.#byId.set(id, u);
    this.#list = [...next.values()];
  }
}
