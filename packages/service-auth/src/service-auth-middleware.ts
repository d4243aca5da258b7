import {
  type ErrorResponseTarget,
  isServiceError,
  parseOptions,
  ServiceErrorCode,
  writeErrorResponse,
} from '@clone/service-errors';
import { z } from 'zod';
import { badRequest, unauthorized } from './errors';
import type { ServiceAuth } from './service-auth';
import type { ServiceIdentity } from './service-identity';

/** The part of a node:http / Express / connect request the middleware reads and writes. */
export interface AuthRequestLike {
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  /** Express keeps the full path here while `url` is relative to the mount point. */
  readonly originalUrl?: string | undefined;
  serviceIdentity?: ServiceIdentity;
}

/** The part of a node:http / Express response a refusal is written to. */
export type AuthResponseLike = ErrorResponseTarget;

/** A connect/Express `next`: called with nothing to go on; never called with an error here. */
export type NextFunction = (error?: unknown) => void;

/**
 * The middleware: a connect/Express function `(req, res, next)`, usable on a plain node:http
 * server too (`guard(req, res, () => handler(req, res))`), plus `authenticate(req, res)` for
 * routers that want a boolean: true when the request may go on (its `serviceIdentity` set),
 * false when it was answered 401/403.
 */
export interface ServiceAuthMiddleware {
  (req: AuthRequestLike, res: AuthResponseLike, next: NextFunction): void;
  authenticate(req: AuthRequestLike, res: AuthResponseLike): boolean;
}

const middlewareOptionsSchema = z.strictObject({
  /**
   * Put the refusal's metadata (`reason`, the missing `permission`) in the body's `details`.
   * Default true: callers are our own services, and "which permission" is what they need to
   * fix their configuration. The token is never in it.
   */
  exposeDetails: z.boolean().default(true),
});

/** Options of {@link serviceAuthMiddleware} and {@link serviceAuthFastifyHook}. */
export type ServiceAuthMiddlewareOptions = z.input<typeof middlewareOptionsSchema>;

const permissionsSchema = z.array(z.string().min(1), { error: 'must be an array of non-empty strings' });

/** The permissions and options of a middleware, checked once when it is made. */
export function parseMiddlewareArguments(
  serviceAuth: ServiceAuth,
  permissions: readonly string[] | undefined,
  options: ServiceAuthMiddlewareOptions | undefined,
  context: string,
): { permissions: readonly string[]; exposeDetails: boolean } {
  if (typeof (serviceAuth as Partial<ServiceAuth> | null)?.authenticate !== 'function') {
    throw badRequest(`${context}: serviceAuth must be the result of createServiceAuth()`, {
      field: 'serviceAuth',
    });
  }
  const required = permissions ?? [];
  const parsed = permissionsSchema.safeParse(required);
  if (!parsed.success) {
    throw badRequest(`${context}: permissions must be an array of non-empty strings`, {
      field: 'permissions',
    });
  }
  const o = parseOptions(middlewareOptionsSchema, options ?? {}, context);
  return { permissions: Object.freeze([...parsed.data]), exposeDetails: o.exposeDetails };
}

/** The id a refusal echoes: the caller's `X-Request-ID`, else its `X-Correlation-ID`. */
export function requestIdOf(headers: AuthRequestLike['headers']): string | undefined {
  const id = headers['x-request-id'] ?? headers['x-correlation-id'];
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** `GET /internal/data`: how a request is named in events and logs (never its query string). */
export function requestLabel(method: string | undefined, url: string | undefined): string {
  const path = url ?? '/';
  const query = path.indexOf('?');
  return `${method ?? 'GET'} ${query === -1 ? path : path.slice(0, query)}`;
}

/** The `WWW-Authenticate` a 401 carries (RFC 6750); undefined for anything else (a 403). */
export function challenge(error: unknown): string | undefined {
  if (!isServiceError(error) || error.code !== ServiceErrorCode.UNAUTHORIZED) return undefined;
  return error.metadata?.reason === 'missing_token'
    ? 'Bearer realm="service"'
    : 'Bearer realm="service", error="invalid_token"';
}

/**
 * Answers a refused request: 401 or 403 with the gateway's error body
 * (`{ success: false, error, code, statusCode, timestamp, requestId, details }`).
 */
export function writeRefusal(
  res: AuthResponseLike,
  error: unknown,
  requestId: string | undefined,
  exposeDetails: boolean,
  now: number,
): void {
  const header = challenge(error);
  if (header !== undefined && !res.headersSent) res.setHeader('www-authenticate', header);
  writeErrorResponse(res, error, { requestId, exposeDetails, now });
}

/** Anything the check throws that is not already a refusal is one: fail closed. */
export function asRefusal(error: unknown): unknown {
  return isServiceError(error)
    ? error
    : unauthorized('malformed', 'token could not be verified', { cause: error });
}

/**
 * Protects HTTP endpoints with service tokens: the request needs `Authorization: Bearer <jwt>`
 * with a token addressed to this service (`aud` = `serviceAuth.serviceName`) granting every one
 * of `permissions`. On success `req.serviceIdentity` is `{ name, id, permissions, token }` and
 * `next()` is called; otherwise the request is answered 401 (no or bad token) or 403 (missing
 * permission) in the gateway's error format and `next` is not called.
 *
 * ```ts
 * app.use('/internal', serviceAuthMiddleware(serviceAuth, ['internal:read']));
 * ```
 *
 * @throws ServiceError BAD_REQUEST naming `serviceAuth`, `permissions` or an option.
 */
export function serviceAuthMiddleware(
  serviceAuth: ServiceAuth,
  permissions?: readonly string[],
  options?: ServiceAuthMiddlewareOptions,
): ServiceAuthMiddleware {
  const o = parseMiddlewareArguments(serviceAuth, permissions, options, 'serviceAuthMiddleware');
  const clock = serviceAuth.clock;
  const authenticate = (req: AuthRequestLike, res: AuthResponseLike): boolean => {
    try {
      req.serviceIdentity = serviceAuth.authenticate(
        req.headers.authorization,
        o.permissions,
        requestLabel(req.method, req.originalUrl ?? req.url),
      );
      return true;
    } catch (error) {
      writeRefusal(res, asRefusal(error), requestIdOf(req.headers), o.exposeDetails, clock.now());
      return false;
    }
  };
  const middleware = (req: AuthRequestLike, res: AuthResponseLike, next: NextFunction): void => {
    if (authenticate(req, res)) next();
  };
  return Object.assign(middleware, { authenticate });
}
