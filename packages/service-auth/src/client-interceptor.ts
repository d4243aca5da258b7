import { ServiceError } from '@clone/service-errors';
import {
  InterceptingCall,
  type Interceptor,
  type Listener,
  Metadata,
  type Requester,
  status,
} from '@grpc/grpc-js';
import type { ServiceTokenProvider } from './token-issuer';

/** What the client interceptor signs for: this caller, these permissions, that target. */
export interface ClientInterceptorOptions {
  /** This instance (`websocket-server-1`). */
  serviceId: string;
  /** This service (`websocket-server`). */
  serviceName: string;
  /** Permissions to request, e.g. `['asr:read']`. */
  permissions: readonly string[];
  /** The target service, put in `aud`; needed when the server expects an audience. */
  audience?: string | undefined;
}

/**
 * The grpc-js interceptor behind `ServiceAuthManager.createClientInterceptor`: it needs only a
 * {@link ServiceTokenProvider}. The requester and listener are shared by every call: per call
 * it costs one `InterceptingCall`, a cache check and a metadata set. A token that cannot be
 * had ends the call with `UNAUTHENTICATED` (reported through `onError`), never a throw.
 */
export function createAuthClientInterceptor(
  provider: ServiceTokenProvider,
  onError: (error: ServiceError) => void,
): Interceptor {
  const listener: Listener = {
    onReceiveStatus(received, next) {
      // The server refused our token (clock skew, key rotated away): the next call signs anew.
      if (received.code === status.UNAUTHENTICATED) provider.invalidate();
      next(received);
    },
  };
  const requester: Requester = {
    start(metadata, callListener, next) {
      let token: string;
      try {
        token = provider.get();
      } catch (error) {
        const e = ServiceError.from(error);
        onError(e);
        callListener.onReceiveStatus({
          code: status.UNAUTHENTICATED,
          details: `Could not sign a service token: ${e.message}`,
          metadata: new Metadata(),
        });
        return;
      }
      metadata.set('authorization', `Bearer ${token}`);
      next(metadata, listener);
    },
  };
  return (options, nextCall) => new InterceptingCall(nextCall(options), requester);
}
