import type { ServiceAuthManager, ServiceTokenProvider } from '@clone/service-auth';

/**
 * The token providers of one service identity, one per (permissions, audience): a service's
 * gRPC and HTTP clients with the same permissions for the same callee send one cached token,
 * signed once until near its expiry. @internal
 */
export class ServiceTokens {
  readonly #auth: ServiceAuthManager;
  readonly #serviceId: string;
  readonly #serviceName: string;
  readonly #providers = new Map<string, ServiceTokenProvider>();

  constructor(auth: ServiceAuthManager, identity: { serviceId: string; serviceName: string }) {
    this.#auth = auth;
    this.#serviceId = identity.serviceId;
    this.#serviceName = identity.serviceName;
  }

  /** The one provider of (permissions, audience), made on first use. */
  get(permissions: readonly string[], audience: string): ServiceTokenProvider {
    const key = JSON.stringify([audience, ...permissions]);
    let token = this.#providers.get(key);
    if (token === undefined) {
      token = this.#auth.createTokenProvider({
        serviceId: this.#serviceId,
        serviceName: this.#serviceName,
        permissions,
        audience,
      });
      this.#providers.set(key, token);
    }
    return token;
  }
}
