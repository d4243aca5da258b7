import type { CircuitBreaker } from '@clone/service-errors';
import {
  makeServicePolicies,
  type PolicyEnvironment,
  type ServicePolicies,
  type ServiceSettings,
} from './service-policies';

/**
 * The policies of every callee of one manager, made on first use from the manager-wide settings
 * merged with the service's own. A Map keyed by name: any service name is a key, `__proto__`
 * included. gRPC calls and HTTP clients of a service get the same {@link ServicePolicies}. @internal
 */
export class ServicePolicySet<S extends ServiceSettings = ServiceSettings> {
  readonly #shared: ServiceSettings;
  readonly #settings: Map<string, S>;
  readonly #env: PolicyEnvironment;
  readonly #policies = new Map<string, ServicePolicies>();

  constructor(shared: ServiceSettings, own: Record<string, S>, env: PolicyEnvironment) {
    this.#shared = shared;
    this.#settings = new Map(Object.entries(own));
    this.#env = env;
    // Fail at construction on a bad breaker or retry setting, not on the first call to some service.
    this.#make('(defaults)').close();
    for (const name of this.#settings.keys()) this.#make(name).close();
  }

  /** The service's own settings as configured (its endpoint included), if any. */
  settingsOf(serviceName: string): S | undefined {
    return this.#settings.get(serviceName);
  }

  /** The policies of `serviceName`, made on first use. */
  get(serviceName: string): ServicePolicies {
    let p = this.#policies.get(serviceName);
    if (p === undefined) {
      p = this.#make(serviceName);
      this.#policies.set(serviceName, p);
    }
    return p;
  }

  /**
   * Replaces the settings of one service (merged over what it had) and its policies: the new
   * ones are made first, so a bad setting throws and changes nothing.
   */
  configure(serviceName: string, settings: ServiceSettings): void {
    const merged = { ...this.#settings.get(serviceName), ...settings } as S;
    const created = makeServicePolicies(serviceName, this.#shared, merged, this.#env);
    this.#settings.set(serviceName, merged);
    this.#policies.get(serviceName)?.close();
    this.#policies.set(serviceName, created);
  }

  /** The breaker stats of every service called so far (a null-prototype record). */
  circuitStats(): Record<string, ReturnType<CircuitBreaker['getStats']>> {
    const stats: Record<string, ReturnType<CircuitBreaker['getStats']>> = Object.create(null);
    for (const [name, p] of this.#policies) stats[name] = p.breaker.getStats();
    return stats;
  }

  /** Stops every service's policies forwarding events. */
  close(): void {
    for (const p of this.#policies.values()) p.close();
  }

  #make(serviceName: string): ServicePolicies {
    return makeServicePolicies(serviceName, this.#shared, this.#settings.get(serviceName), this.#env);
  }
}
