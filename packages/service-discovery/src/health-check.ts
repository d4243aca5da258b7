import * as http from 'node:http';
import * as https from 'node:https';
import { formatEndpoint } from '@clone/internal';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import * as grpc from '@grpc/grpc-js';
import { type HealthCheckResponse, HealthClient } from './health-proto';
import type { ServiceInstance } from './instance';

/**
 * Checks one instance once. Resolves `true` when it is healthy; resolves `false` or rejects
 * (with the reason) when it is not. Must stop promptly when `signal` aborts (the check timed
 * out or the registry stopped).
 */
export type HealthCheck = (instance: ServiceInstance, signal: AbortSignal) => Promise<boolean>;

/** Options of {@link defaultHealthCheck}. */
export interface DefaultHealthCheckOptions {
  /** Credentials for gRPC checks. Default: plaintext. */
  grpcCredentials?: grpc.ChannelCredentials | undefined;
}

/**
 * The standard checks: `grpc.health.v1.Health/Check` for gRPC instances (UNIMPLEMENTED counts
 * as serving unless the instance sets `strictHealthCheck`), `GET healthCheckUrl` (default
 * `/health`) for HTTP instances, where any 2xx is healthy.
 */
export function defaultHealthCheck(options: DefaultHealthCheckOptions = {}): HealthCheck {
  const credentials = options.grpcCredentials ?? grpc.credentials.createInsecure();
  return (instance, signal) =>
    instance.protocol === 'grpc' ? checkGrpc(instance, credentials, signal) : checkHttp(instance, signal);
}

function aborted(signal: AbortSignal, instance: ServiceInstance): ServiceError {
  return ServiceError.from(
    signal.reason ?? new DOMException('Health check aborted', 'AbortError'),
    instance.serviceName,
  );
}

/**
 * One channel per check, with a private subchannel pool: a check measures whether the
 * instance answers now, not the reconnect backoff a long-lived channel would have built up
 * while it was down. At one check per interval the handshake costs nothing that matters.
 */
function checkGrpc(
  instance: ServiceInstance,
  credentials: grpc.ChannelCredentials,
  signal: AbortSignal,
): Promise<boolean> {
  if (signal.aborted) return Promise.reject(aborted(signal, instance));
  const client = new HealthClient(formatEndpoint(instance), credentials, {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.enable_retries': 0,
  });
  return new Promise<boolean>((resolve, reject) => {
    const onAbort = (): void => call.cancel();
    const call = client.Check(
      { service: instance.healthCheckService ?? '' },
      (error: grpc.ServiceError | null, response?: HealthCheckResponse) => {
        signal.removeEventListener('abort', onAbort);
        client.close();
        if (signal.aborted) reject(aborted(signal, instance));
        else if (error === null) {
          if (response?.status === 'SERVING') resolve(true);
          else
            reject(
              new ServiceError(
                ServiceErrorCode.SERVICE_UNAVAILABLE,
                `health status ${response?.status ?? 'UNKNOWN'}`,
                instance.serviceName,
              ),
            );
        } else if (error.code === grpc.status.UNIMPLEMENTED && instance.strictHealthCheck !== true) {
          // Up, reachable and answering gRPC, just without the standard health service.
          resolve(true);
        } else reject(ServiceError.from(error, instance.serviceName));
      },
    );
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function checkHttp(instance: ServiceInstance, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.reject(aborted(signal, instance));
  const url = new URL(instance.healthCheckUrl ?? '/health', `http://${formatEndpoint(instance)}`);
  const get = url.protocol === 'https:' ? https.get : http.get;
  return new Promise<boolean>((resolve, reject) => {
    // agent: false: one connection per check, closed after, so no pooled socket outlives stop().
    const request = get(
      url,
      { agent: false, signal, headers: { 'user-agent': '@clone/service-discovery' } },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve(true);
        else
          reject(
            ServiceError.fromHttpStatus(
              status,
              `GET ${url.pathname} answered ${status}`,
              instance.serviceName,
            ),
          );
      },
    );
    request.once('error', (error) =>
      reject(signal.aborted ? aborted(signal, instance) : ServiceError.from(error, instance.serviceName)),
    );
  });
}
