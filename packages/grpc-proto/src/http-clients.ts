import { ServiceClient as HttpServiceClient, type ServiceClientOptions } from '@clone/http-client';
import { nonEmptyString } from '@clone/internal';
import type { ServiceTokenProvider } from '@clone/service-auth';
import type { ServiceRegistry } from '@clone/service-discovery';
import { type Clock, type Logger, parseOptions } from '@clone/service-errors';
import { z } from 'zod';
import type { ServicePolicies } from './service-policies';

/**
 * Options of `ServiceCommunicationManager.createHttpClient`: the request settings of a
 * ServiceClient (`baseUrl` instead of the manager's discovery, headers, body limits, idempotency
 * keys, pool size) plus the token's permissions and audience. The breaker, retry policy, retry
 * budget, token and discovery are the service's, shared with its gRPC clients.
 */
export type ManagerHttpClientOptions = Pick<
  ServiceClientOptions,
  | 'baseUrl'
  | 'callerName'
  | 'headers'
  | 'maxResponseBytes'
  | 'autoIdempotencyKey'
  | 'connections'
  | 'keepAliveTimeoutMs'
> & {
  /** Permissions the token asks for (default the gRPC client's for a product service, else `<service>:read`). */
  permissions?: readonly string[] | undefined;
  /** The token's `aud` (default the service name). */
  audience?: string | undefined;
};

const tokenFieldsSchema = z.object({
  permissions: z.array(nonEmptyString(), { error: 'must be an array of strings' }).readonly().optional(),
  audience: nonEmptyString().optional(),
});

/** What the manager hands over to make an HTTP client. @internal */
export interface HttpClientEnvironment {
  policies: ServicePolicies;
  registry: ServiceRegistry;
  /** The manager's shared token of (permissions, audience). */
  token(permissions: readonly string[], audience: string): ServiceTokenProvider;
  defaultPermissions(serviceName: string): readonly string[];
  callerName: string;
  clock: Clock;
  logger: Logger;
}

/**
 * An HTTP ServiceClient of `serviceName` on the service's own breaker, retry policy (its retry
 * budget inside) and timeout, the manager's registry and the token its gRPC clients send. @internal
 */
export function makeHttpClient(
  serviceName: string,
  options: ManagerHttpClientOptions,
  env: HttpClientEnvironment,
): HttpServiceClient {
  const { permissions, audience, ...rest } = options;
  parseOptions(
    tokenFieldsSchema,
    { permissions, audience },
    `createHttpClient(${JSON.stringify(serviceName)})`,
  );
  const token = env.token(permissions ?? env.defaultPermissions(serviceName), audience ?? serviceName);
  const { breaker, retry, timeout } = env.policies;
  return new HttpServiceClient({
    serviceName,
    callerName: env.callerName,
    ...rest,
    ...(rest.baseUrl === undefined ? { discovery: env.registry } : {}),
    policies: { circuitBreaker: breaker, retry, ...(timeout === undefined ? {} : { timeout }) },
    auth: token,
    clock: env.clock,
    logger: env.logger,
  } as ServiceClientOptions);
}
