import type { ServiceError } from '@clone/service-errors';
import type { UpstreamState } from './upstream';

/** Why an instance left or rejoined rotation. */
export type RotationReason = 'failures' | 'connect-error' | 'health-check' | 'ejection-expired';

/** The events of a gateway (`gateway.on(event, fn)` returns an unsubscribe). */
export interface GatewayEvents {
  /** An instance left or rejoined the rotation of its service. */
  rotation: {
    service: string;
    serviceId: string;
    from: UpstreamState;
    to: UpstreamState;
    reason: RotationReason;
  };
  /** A GET was answered from the cache because the service could not answer it. */
  staleServed: { service: string; path: string; ageMs: number; error: ServiceError };
  /** A request was answered with an error (4xx/5xx of the gateway's own). */
  rejected: { service: string | undefined; path: string; error: ServiceError };
}
