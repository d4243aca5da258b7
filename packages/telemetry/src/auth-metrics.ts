import {
  type EventSource,
  type InstrumentationOptions,
  parseInstrumentationOptions,
  unsubscribeAll,
} from './instrumentation-options';
import { AttributeKeys as A, MetricNames as M } from './metric-names';
import { resolveMeter } from './providers';

/** The events of a `ServiceAuthManager` (`@clone/service-auth`) this reads, by shape. */
export interface AuthEvents {
  tokenIssued: { serviceName: string };
  authFailure: { reason: string; serviceName?: string | undefined; method?: string | undefined };
}

/**
 * Records authentication failures by reason (`clone.auth.reason`: missing_token, expired,
 * bad_signature, …), with the caller and the gRPC method when known, and tokens issued.
 */
export function instrumentServiceAuth(
  source: EventSource<AuthEvents>,
  options?: InstrumentationOptions,
): () => void {
  const meter = resolveMeter(parseInstrumentationOptions(options, 'instrumentServiceAuth'));
  if (meter === undefined) return () => {};
  const failures = meter.createCounter(M.authFailures, { description: 'Refused tokens and calls' });
  const issued = meter.createCounter(M.authTokensIssued, { description: 'Tokens signed' });
  return unsubscribeAll([
    source.on('authFailure', (e) => {
      const attributes: Record<string, string> = { [A.authReason]: e.reason };
      if (e.serviceName !== undefined) attributes[A.caller] = e.serviceName;
      if (e.method !== undefined) attributes[A.rpcMethod] = e.method;
      failures.add(1, attributes);
    }),
    source.on('tokenIssued', (e) => issued.add(1, { [A.caller]: e.serviceName })),
  ]);
}
