import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rateLimitError, setRateLimitHeaders } from '@clone/rate-limit';
import type { UserClaims } from '@clone/service-auth';
import { defaultHealthCheck } from '@clone/service-discovery';
import {
  Emitter,
  parseOptions,
  ServiceError,
  ServiceErrorCode,
  type Unsubscribe,
  writeErrorResponse,
} from '@clone/service-errors';
import type { Dispatcher } from 'undici';
import { ActiveHealthCheck } from './active-health-check';
import { ClientGone } from './client-gone';
import { sendStale, streamResponse } from './downstream-response';
import { hasBody, incomingRequestId, upstreamRequestHeaders } from './forwarded-headers';
import { answerBuiltIn, type GatewayView } from './gateway-endpoints';
import type { GatewayEvents } from './gateway-events';
import { type GatewayOptions, gatewayOptionsSchema, type ParsedGatewayOptions } from './gateway-options';
import { type ProxyRequest, proxyAttempt, upstreamAnswerOf } from './proxy-attempt';
import { ResponseCache } from './response-cache';
import { type CompiledRoute, RouteTable } from './route-table';
import { makeServiceEntry, type ServiceEntry } from './service-entry';
import { ServiceUpstreams } from './service-upstreams';

/** Methods whose repetition has the effect of one request (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

function badOption(field: string, text: string): ServiceError {
  return new ServiceError(ServiceErrorCode.BAD_REQUEST, `Gateway: ${field} ${text}`, undefined, {
    retryable: false,
    metadata: { field },
  });
}

/**
 * The API gateway: routes `<prefix>/*` to the service that owns it (instances from discovery,
 * each with its own keep-alive pool), checks user tokens, applies rate limits, ejects failing
 * instances, retries idempotent requests within a budget, answers GETs from recent copies when
 * a service is down, and drains on `close()`.
 *
 * ```ts
 * const gateway = createGateway({
 *   routes: [{ path: '/api/v1/users/*', service: 'user-service', auth: true }],
 *   discovery: registry,
 *   auth: createUserTokenVerifier({ secret: process.env.JWT_SECRET! }), // from @clone/service-auth
 * });
 * const url = await gateway.listen(4000);
 * ```
 */
export class Gateway {
  /** The node:http server (not listening until {@link listen}; {@link handle} works without it). */
  readonly server: http.Server;
  readonly #o: ParsedGatewayOptions;
  readonly #routes: RouteTable;
  readonly #services = new Map<string, ServiceEntry>();
  readonly #events = new Emitter<GatewayEvents>();
  readonly #cache: ResponseCache | undefined;
  readonly #health: ActiveHealthCheck;
  readonly #view: GatewayView;
  readonly #startedAt: number;
  readonly #now: () => number;
  #inFlight = 0;
  #requests = 0;
  #draining = false;
  #drained: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: GatewayOptions) {
    const o = parseOptions(gatewayOptionsSchema, options, 'Gateway');
    this.#o = o;
    this.#routes = new RouteTable(o.routes, o.stripPrefix);
    const needsAuth = this.#routes.routes.find((r) => r.auth);
    if (needsAuth !== undefined && o.auth === undefined)
      throw badOption('auth', `is required: route '${needsAuth.path}' has auth on`);
    for (const [i, r] of o.routes.entries()) {
      if (r.rateLimit === undefined) continue;
      if (o.rateLimits === undefined) throw badOption(`routes.${i}.rateLimit`, 'needs the rateLimits option');
      try {
        o.rateLimits.policyFor(r.rateLimit);
      } catch {
        throw badOption(`routes.${i}.rateLimit`, `names no route of the rate limiter, got '${r.rateLimit}'`);
      }
    }
    this.#startedAt = o.clock.now();
    const now = (): number => o.clock.now();
    this.#now = now;
    const notify = (event: GatewayEvents['rotation']): void => {
      o.logger.info('gateway: rotation changed', { ...event });
      this.#events.emit('rotation', event);
    };
    const pool = {
      connections: o.connectionsPerInstance,
      headersTimeoutMs: o.upstreamTimeoutMs,
      bodyTimeoutMs: o.upstreamTimeoutMs,
    };
    // Services are built after every option has passed, so a bad option leaves nothing running.
    const entries: ServiceEntry[] = [];
    try {
      for (const name of this.#routes.services()) {
        const upstreams = new ServiceUpstreams(name, o.discovery, o.outlierDetection, pool, now, notify);
        try {
          entries.push(makeServiceEntry(name, upstreams, o));
        } catch (error) {
          void upstreams.close();
          throw error;
        }
      }
    } catch (error) {
      for (const e of entries) void e.upstreams.close();
      throw error;
    }
    for (const e of entries) this.#services.set(e.upstreams.name, e);
    this.#cache = o.cache === false ? undefined : new ResponseCache(o.cache);
    this.#health = new ActiveHealthCheck(
      {
        intervalMs: o.healthCheckIntervalMs,
        timeoutMs: o.healthCheckTimeoutMs,
        unhealthyThreshold: o.unhealthyThreshold,
        check: o.healthCheck ?? defaultHealthCheck(),
        clock: o.clock,
        logger: o.logger,
      },
      () => [...this.#services.values()].map((e) => e.upstreams),
    );
    const self = this;
    this.#view = {
      startedAt: this.#startedAt,
      now,
      get draining() {
        return self.#draining;
      },
      get inFlight() {
        return self.#inFlight;
      },
      get requests() {
        return self.#requests;
      },
      routes: this.#routes.routes.map((r) => ({ path: r.path, service: r.service, auth: r.auth })),
      services: () => this.#services.values(),
    };
    this.server = http.createServer(this.handle);
    this.#health.start();
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof GatewayEvents>(event: K, listener: (payload: GatewayEvents[K]) => void): Unsubscribe {
    return this.#events.on(event, listener);
  }

  /** Starts listening (default: a free port on 127.0.0.1); resolves with the base URL. */
  listen(port = 0, host = '127.0.0.1'): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.url);
      });
    });
  }

  /** `http://host:port` of the listening server. */
  get url(): string {
    const address = this.server.address() as AddressInfo | null;
    if (address === null) throw badOption('url', 'is unknown: the gateway is not listening');
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  /** Runs one round of active health checks now (the timer does every `healthCheckIntervalMs`). */
  checkHealth(): Promise<void> {
    return this.#health.runOnce();
  }

  /** The request listener: mount it in a server of your own, or let {@link listen} use it. */
  readonly handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    this.#requests++;
    this.#inFlight++;
    res.once('close', () => {
      this.#inFlight--;
      if (this.#inFlight === 0) this.#drained?.();
    });
    const requestId = incomingRequestId(req) ?? this.#o.requestId?.() ?? randomUUID();
    if (this.#draining) res.setHeader('connection', 'close');
    this.#route(req, res, requestId).catch((error: unknown) =>
      this.#fail(res, error, requestId, undefined, req.url),
    );
  };

  async #route(req: http.IncomingMessage, res: http.ServerResponse, requestId: string): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (req.method === 'GET' && answerBuiltIn(path, this.#o.basePath, this.#view, res, requestId)) return;
    for (const mount of this.#o.mounts) if (mount.handle(req, res)) return;
    const route = this.#routes.match(path);
    if (route === undefined)
      throw new ServiceError(ServiceErrorCode.NOT_FOUND, `No route for ${path}`, undefined, {
        retryable: false,
      });
    try {
      const user = route.auth ? this.#authenticate(req) : undefined;
      await this.#limit(req, res, route, user);
      await this.#forward(req, res, route, path, q < 0 ? '' : url.slice(q), requestId, user);
    } catch (error) {
      this.#fail(res, error, requestId, route.service, path);
    }
  }

  #authenticate(req: http.IncomingMessage): UserClaims {
    const header = req.headers.authorization;
    if (header === undefined || !/^Bearer [^\s]+$/i.test(header))
      throw new ServiceError(ServiceErrorCode.UNAUTHORIZED, 'A bearer token is required', undefined, {
        retryable: false,
      });
    return this.#o.auth!.verify(header.slice(7));
  }

  async #limit(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    route: CompiledRoute,
    user: UserClaims | undefined,
  ): Promise<void> {
    const limiter = this.#o.rateLimits;
    if (limiter === undefined) return;
    const key = this.#o.rateLimitKey?.(req, user) ?? user?.sub ?? req.socket.remoteAddress ?? 'unknown';
    const decision = await limiter.check(
      key,
      route.rateLimit === undefined ? undefined : { route: route.rateLimit },
    );
    setRateLimitHeaders(res, decision);
    if (!decision.allowed) throw rateLimitError(decision, key, route.service);
  }

  async #forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    route: CompiledRoute,
    path: string,
    query: string,
    requestId: string,
    user: UserClaims | undefined,
  ): Promise<void> {
    const entry = this.#services.get(route.service)!;
    const method = req.method ?? 'GET';
    const body = hasBody(req) ? req : null;
    const gone = new ClientGone();
    res.once('close', () => {
      if (!res.writableFinished) gone.abort(route.service);
    });
    const request: ProxyRequest = {
      service: route.service,
      method,
      path: (path.slice(route.stripPrefix.length) || '/') + query,
      headers: upstreamRequestHeaders(req, requestId, route.service),
      body,
      replayable: body === null && IDEMPOTENT.has(method),
      signal: gone,
    };
    // Keyed by user too: a copy of one user's answer must never reach another user.
    const cacheKey =
      this.#cache !== undefined && method === 'GET'
        ? `${route.service}\n${user?.sub ?? ''}\n${path}${query}`
        : undefined;
    let data: Dispatcher.ResponseData;
    try {
      data = await entry.policy.execute(() => proxyAttempt(entry, request));
    } catch (thrown) {
      const error = ServiceError.from(thrown, route.service);
      if (
        cacheKey !== undefined &&
        error.code !== ServiceErrorCode.CANCELLED &&
        this.#serveStale(res, cacheKey, route, path, error, requestId)
      ) {
        // A kept upstream answer (a GET with a body) is dropped, freeing its connection.
        upstreamAnswerOf(thrown)
          ?.body.dump()
          .catch(() => undefined);
        return;
      }
      const answer = upstreamAnswerOf(thrown);
      if (answer === undefined) throw error;
      data = answer;
    }
    const copy = cacheKey === undefined ? undefined : { cache: this.#cache!, key: cacheKey, now: this.#now };
    streamResponse(res, data, requestId, copy, this.#o.logger);
  }

  #serveStale(
    res: http.ServerResponse,
    key: string,
    route: CompiledRoute,
    path: string,
    error: ServiceError,
    requestId: string,
  ): boolean {
    const now = this.#o.clock.now();
    const hit = this.#cache!.get(key, now);
    if (hit === undefined || res.headersSent) return false;
    const ageMs = Math.max(0, now - hit.storedAt);
    sendStale(res, hit, ageMs, requestId);
    this.#o.logger.warn('gateway: served a stale copy', { service: route.service, path, ageMs, error });
    this.#events.emit('staleServed', { service: route.service, path, ageMs, error });
    return true;
  }

  #fail(
    res: http.ServerResponse,
    thrown: unknown,
    requestId: string,
    service: string | undefined,
    path = '',
  ): void {
    const error = ServiceError.from(thrown, service);
    this.#events.emit('rejected', { service, path, error });
    if (res.headersSent) {
      res.destroy(error);
      return;
    }
    if (error.code === ServiceErrorCode.UNAUTHORIZED) res.setHeader('www-authenticate', 'Bearer');
    writeErrorResponse(res, error, { requestId, now: this.#o.clock.now() });
  }

  /**
   * Graceful shutdown: stops accepting connections, answers health with 503, lets requests in
   * flight finish (at most `drainTimeoutMs`, then their connections are cut), stops the health
   * checks and closes every upstream pool. No handle is left; safe to call more than once.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#draining = true;
      const closed = new Promise<void>((resolve) => {
        if (!this.server.listening) resolve();
        else this.server.close(() => resolve());
      });
      this.server.closeIdleConnections();
      if (this.#inFlight > 0) {
        await new Promise<void>((resolve) => {
          const timer = this.#o.clock.setTimeout(resolve, this.#o.drainTimeoutMs, true);
          this.#drained = () => {
            this.#o.clock.clearTimeout(timer);
            resolve();
          };
        });
      }
      this.server.closeAllConnections();
      await closed;
      await this.#health.stop();
      await Promise.allSettled([...this.#services.values()].map((e) => e.upstreams.close()));
      this.#cache?.clear();
      this.#events.removeAllListeners();
    })();
    return this.#closing;
  }

  /** `await using gateway = createGateway(…)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Builds a {@link Gateway}; a bad route or option throws ServiceError BAD_REQUEST naming the field. */
export function createGateway(options: GatewayOptions): Gateway {
  return new Gateway(options);
}
