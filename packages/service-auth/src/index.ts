export type { ClientInterceptorOptions } from './client-interceptor';
export type { AuthFailureReason } from './errors';
export type { ServiceAuthEvents } from './events';
export {
  type FastifyReplyLike,
  type FastifyRequestLike,
  type ServiceAuthFastifyHook,
  serviceAuthFastifyHook,
} from './fastify-hook';
export {
  ALGORITHMS,
  type AsymmetricMaterial,
  MIN_RSA_BITS,
  MIN_SECRET_BYTES,
  type PublicJwk,
  type PublicJwks,
  type SecretMaterial,
  type ServiceAuthAlgorithm,
  type ServiceKeyInput,
} from './key-set';
export {
  DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  type ServiceAuthOptions,
  serviceAuthOptionsSchema,
} from './options';
export type { ServiceTokenPayload } from './payload';
export { MAX_PERMISSIONS } from './payload';
export {
  hasAllPermissions,
  hasAnyPermission,
  hasPermission,
  type PermissionHolder,
  permissionMatches,
} from './permissions';
export {
  DEFAULT_PUBLIC_METHODS,
  getServiceIdentity,
  type ServerInterceptorOptions,
} from './server-interceptor';
export { type CreateServiceAuthOptions, createServiceAuth, ServiceAuth } from './service-auth';
export { ServiceAuthManager } from './service-auth-manager';
export {
  type AuthRequestLike,
  type AuthResponseLike,
  type NextFunction,
  type ServiceAuthMiddleware,
  type ServiceAuthMiddlewareOptions,
  serviceAuthMiddleware,
} from './service-auth-middleware';
export type { ServiceAuthenticatedRequest, ServiceIdentity } from './service-identity';
export { MAX_TOKEN_LENGTH } from './token';
export type { GenerateTokenOptions, ServiceTokenProvider, TokenRequest } from './token-issuer';
export type { VerifyContext } from './token-verifier';
export {
  createUserTokenVerifier,
  type UserClaims,
  type UserTokenVerifier,
  type UserTokenVerifierOptions,
} from './user-token-verifier';
