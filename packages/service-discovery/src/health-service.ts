import * as grpc from '@grpc/grpc-js';
import {
  type HealthCheckRequest,
  type HealthCheckResponse,
  healthServiceDefinition,
  type ServingStatus,
} from './health-proto';

type WatchCall = grpc.ServerWritableStream<HealthCheckRequest, HealthCheckResponse>;

/**
 * A `grpc.health.v1.Health` implementation for your own servers: `Check` and `Watch`, with
 * statuses you set as the service's dependencies come and go. The empty service name `''`
 * stands for the whole server and starts SERVING.
 *
 * ```ts
 * const health = new HealthService();
 * health.addTo(server);
 * health.setStatus('', 'NOT_SERVING'); // draining: registries take this instance out of rotation
 * ```
 */
export class HealthService {
  readonly #statuses = new Map<string, ServingStatus>();
  readonly #watchers = new Map<string, Set<WatchCall>>();

  constructor(statuses: Record<string, ServingStatus> = { '': 'SERVING' }) {
    for (const [service, status] of Object.entries(statuses)) this.#statuses.set(service, status);
  }

  /** Sets the status of `service` (`''` for the whole server) and tells its watchers. */
  setStatus(service: string, status: ServingStatus): void {
    if (this.#statuses.get(service) === status) return;
    this.#statuses.set(service, status);
    for (const call of this.#watchers.get(service) ?? []) call.write({ status });
  }

  /** The status of `service`, or undefined when it was never set. */
  getStatus(service: string): ServingStatus | undefined {
    return this.#statuses.get(service);
  }

  /** Adds the health service to a grpc-js server (before `bindAsync`). */
  addTo(server: grpc.Server): void {
    server.addService(healthServiceDefinition, this.implementation);
  }

  /** The handlers, for `server.addService(healthServiceDefinition, health.implementation)`. */
  get implementation(): grpc.UntypedServiceImplementation {
    return {
      Check: (
        call: grpc.ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>,
        callback: grpc.sendUnaryData<HealthCheckResponse>,
      ) => {
        const status = this.#statuses.get(call.request.service);
        if (status === undefined) {
          callback({ code: grpc.status.NOT_FOUND, details: `unknown service '${call.request.service}'` });
        } else {
          callback(null, { status });
        }
      },
      Watch: (call: WatchCall) => {
        const service = call.request.service;
        let set = this.#watchers.get(service);
        if (set === undefined) {
          set = new Set();
          this.#watchers.set(service, set);
        }
        set.add(call);
        call.write({ status: this.#statuses.get(service) ?? 'SERVICE_UNKNOWN' });
        call.on('cancelled', () => {
          set.delete(call);
          if (set.size === 0) this.#watchers.delete(service);
        });
      },
    };
  }
}
