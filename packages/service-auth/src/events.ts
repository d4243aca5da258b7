import type { AuthFailureReason } from './errors';

/** The events a {@link ServiceAuthManager} emits. Payloads never contain a token or a key. */
export interface ServiceAuthEvents {
  /** A token was signed (on a client cache miss or refresh, or by `generateServiceToken`). */
  tokenIssued: {
    serviceId: string;
    serviceName: string;
    permissions: readonly string[];
    audience: string | undefined;
    kid: string | undefined;
    jti: string;
    /** When the token expires. */
    expiresAt: Date;
  };
  /** A token or a call was refused. */
  authFailure: {
    reason: AuthFailureReason;
    /** The error message (never the token). */
    message: string;
    /**
     * The caller's service name. For a rejected token this is what the token *claims* (read
     * without verification, for diagnosis only); for a missing permission it is verified.
     */
    serviceName?: string;
    /** The full gRPC method path, when the failure happened in the server interceptor. */
    method?: string;
  };
  /** The key set changed: a key was added, removed, or made the signing key. */
  keySetChanged: { change: 'added' | 'removed' | 'activated'; kid: string };
}
