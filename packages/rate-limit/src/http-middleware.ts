import type { IncomingMessage, ServerResponse } from 'node:http';
import { functionOption } from '@clone/internal';
import { parseOptions, writeErrorResponse } from '@clone/service-errors';
import { z } from 'zod';
import { rateLimitError } from './decision';
import { setRateLimitHeaders } from './http-headers';
import type { RateLimiter } from './rate-limiter';
import { callUser } from './user-callbacks';

const middlewareOptionsSchema = z.strictObject({
  /**
   * The key a request counts against (a client id, an API key, a user); default the client's
   * IP (`req.socket.remoteAddress`). Undefined: the request is not limited.
   */
  key: functionOption<(req: IncomingMessage) => string | undefined>().optional(),
  /** The limiter route whose tiers apply (e.g. `'payments'` for `/api/v1/payments/*`); default tiers when undefined. */
  route: functionOption<(req: IncomingMessage) => string | undefined>().optional(),
  /** The request id echoed in the error body (default the `x-request-id` header). */
  requestId: functionOption<(req: IncomingMessage) => string | undefined>().optional(),
  /** Send `RateLimit-Policy`/`RateLimit` on allowed responses too (default true; always on 429). */
  headersOnSuccess: z.boolean().default(true),
});

/** Options of {@link rateLimitMiddleware}. */
export type RateLimitMiddlewareOptions = z.input<typeof middlewareOptionsSchema>;

/**
 * A node:http / connect middleware over a {@link RateLimiter}: `(req, res, next?) => Promise<boolean>`.
 * Allowed: sets the rate limit headers, calls `next()`, resolves true. Refused: answers with
 * `writeErrorResponse` (429 `RATE_LIMIT_EXCEEDED`, or 503 while the store is down and the limiter
 * fails closed) with `Retry-After`, `RateLimit-Policy` and `RateLimit`, resolves false, and does
 * not call `next`. A store outage never becomes a 500; a throwing `key`/`route` function goes to
 * `next(error)` (or rejects without `next`). Awaitable, so a gateway can use it inline:
 * `if (!(await limit(req, res))) return;`.
 */
export function rateLimitMiddleware(
  limiter: RateLimiter,
  options: RateLimitMiddlewareOptions = {},
): (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => Promise<boolean> {
  const o = parseOptions(middlewareOptionsSchema, options, 'rateLimitMiddleware');
  const keyOf = o.key ?? ((req: IncomingMessage) => req.socket.remoteAddress);
  const routeOf = o.route;
  const requestIdOf = o.requestId ?? ((req: IncomingMessage) => header(req, 'x-request-id'));
  const requestId = (req: IncomingMessage): string | undefined => {
    try {
      return callUser('rateLimitMiddleware: requestId', requestIdOf, req);
    } catch {
      return undefined; // the 429 matters more than the id echoed in it
    }
  };
  return async (req, res, next) => {
    let key: string | undefined;
    let d: Awaited<ReturnType<RateLimiter['check']>>;
    try {
      key = callUser('rateLimitMiddleware: key', keyOf, req);
      if (key === undefined) {
        next?.();
        return true;
      }
      const route = routeOf === undefined ? undefined : callUser('rateLimitMiddleware: route', routeOf, req);
      d = await limiter.check(key, { route });
    } catch (error) {
      if (next === undefined) throw error;
      next(error);
      return false;
    }
    if (d.allowed) {
      if (o.headersOnSuccess && !res.headersSent) setRateLimitHeaders(res, d);
      next?.();
      return true;
    }
    if (!res.headersSent) setRateLimitHeaders(res, d);
    writeErrorResponse(res, rateLimitError(d, key), { requestId: requestId(req) });
    return false;
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
