import { toErrorResponse } from '@clone/service-errors';
import type { ServiceAuth } from './service-auth';
import {
  type AuthRequestLike,
  asRefusal,
  challenge,
  parseMiddlewareArguments,
  requestIdOf,
  requestLabel,
  type ServiceAuthMiddlewareOptions,
} from './service-auth-middleware';

/** The part of a Fastify request the hook reads and writes (no dependency on fastify). */
export interface FastifyRequestLike extends AuthRequestLike {
  /** Fastify's own request id, echoed when the caller sent no `X-Request-ID`. */
  readonly id?: string | undefined;
}

/** The part of a Fastify reply a refusal is sent through. */
export interface FastifyReplyLike {
  code(statusCode: number): FastifyReplyLike;
  header(name: string, value: string): FastifyReplyLike;
  send(payload: string): unknown;
}

/** A Fastify `onRequest` / `preHandler` hook in callback style. */
export type ServiceAuthFastifyHook = (
  request: FastifyRequestLike,
  reply: FastifyReplyLike,
  done: (error?: Error) => void,
) => void;

/**
 * The Fastify form of `serviceAuthMiddleware`: same check, same 401/403 bodies, the caller on
 * `request.serviceIdentity`.
 *
 * ```ts
 * app.addHook('onRequest', serviceAuthFastifyHook(serviceAuth, ['internal:read']));
 * ```
 *
 * Declare the property once for speed and types: `app.decorateRequest('serviceIdentity', null)`.
 * @throws ServiceError BAD_REQUEST naming `serviceAuth`, `permissions` or an option.
 */
export function serviceAuthFastifyHook(
  serviceAuth: ServiceAuth,
  permissions?: readonly string[],
  options?: ServiceAuthMiddlewareOptions,
): ServiceAuthFastifyHook {
  const o = parseMiddlewareArguments(serviceAuth, permissions, options, 'serviceAuthFastifyHook');
  const clock = serviceAuth.clock;
  return (request, reply, done) => {
    try {
      request.serviceIdentity = serviceAuth.authenticate(
        request.headers.authorization,
        o.permissions,
        requestLabel(request.method, request.url),
      );
    } catch (error) {
      const refusal = asRefusal(error);
      const requestId = requestIdOf(request.headers) ?? request.id;
      const body = toErrorResponse(refusal, {
        requestId,
        exposeDetails: o.exposeDetails,
        now: clock.now(),
      });
      reply.code(body.statusCode).header('content-type', 'application/json; charset=utf-8');
      const header = challenge(refusal);
      if (header !== undefined) reply.header('www-authenticate', header);
      if (requestId !== undefined) reply.header('x-request-id', requestId);
      reply.send(JSON.stringify(body));
      return;
    }
    done();
  };
}
