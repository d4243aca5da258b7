import type { HealthStatus } from '@clone/service-discovery';
import type { CircuitState, ServiceError } from '@clone/service-errors';

/** The events of a `ServiceCommunicationManager`, every one naming the service concerned. */
export interface ServiceCommunicationEvents {
  /** A service's circuit changed state. */
  circuitStateChange: { service: string; from: CircuitState; to: CircuitState; reason: string };
  /** A call was refused by an open (or saturated half-open) circuit without being made. */
  circuitRejected: { service: string; error: ServiceError };
  /** An attempt failed and another starts after `delayMs`. */
  retry: { service: string; attempt: number; delayMs: number; error: ServiceError };
  /** An `executeServiceCall` succeeded, after `attempts` attempts. */
  callSucceeded: {
    service: string;
    durationMs: number;
    attempts: number;
    /** The first gRPC method the call's attempts made through the manager's clients (`Transcribe`). */
    method?: string | undefined;
  };
  /** An `executeServiceCall` failed for good with `error`. */
  callFailed: {
    service: string;
    durationMs: number;
    attempts: number;
    error: ServiceError;
    method?: string | undefined;
  };
  /** A registered instance's health changed (registry health checks). */
  healthChanged: {
    service: string;
    serviceId: string;
    previous: HealthStatus;
    current: HealthStatus;
    error?: ServiceError;
  };
}
