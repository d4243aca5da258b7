/**
 * The demo's HTTP front: a `conversation-service` on node:http that runs the conversation saga
 * through the orchestrator (the communication facade), registered in the orchestrator's
 * registry and reached through `@clone/gateway` at `/api/v1/conversations`, with user tokens
 * checked, the design's rate-limit tiers, and the registry HTTP API mounted at
 * `/api/v1/registry`. Start it with {@link startGatewayFront}; then:
 *
 * ```sh
 * curl -s -X POST "$URL/api/v1/conversations" -H "authorization: Bearer $TOKEN" \
 *   -H 'content-type: application/json' -d '{"sessionId":"s-1","text":"Where did you grow up?"}'
 * curl -s "$URL/api/v1/conversations/s-1" -H "authorization: Bearer $TOKEN"
 * curl -s "$URL/api/v1/health/detailed"
 * ```
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGateway, type Gateway } from '@clone/gateway';
import { RateLimiter } from '@clone/rate-limit';
import { createUserTokenVerifier } from '@clone/service-auth';
import { createRegistryHttpApi, type ServiceRegistry } from '@clone/service-discovery';
import { ServiceError, ServiceErrorCode, writeErrorResponse } from '@clone/service-errors';
import { createTracer, tracingMiddleware } from '@clone/telemetry';
import jwt from 'jsonwebtoken';
import { encodeSpeech } from './lib/speech-codec';
import type { ConversationOrchestrator } from './orchestrator';

/** The service the gateway routes `/api/v1/conversations/*` to. */
export const CONVERSATION_SERVICE = 'conversation-service';

/** What {@link startGatewayFront} needs. */
export interface GatewayFrontOptions {
  orchestrator: ConversationOrchestrator;
  /** The registry the gateway discovers through and the conversation service registers in (the orchestrator's). */
  registry: ServiceRegistry;
  /** Secret of the user tokens (HS256); the demo prints a token signed with it. */
  jwtSecret: string;
  /** Gateway port (default: a free one) on 127.0.0.1. */
  port?: number | undefined;
  /** Active health checks of the gateway (default 30 s). */
  healthCheckIntervalMs?: number | undefined;
}

/** A running front. */
export interface GatewayFront {
  /** The gateway's base URL, e.g. `http://127.0.0.1:4000`. */
  url: string;
  /** A user token for `user-123`, valid one hour, for curl. */
  token: string;
  gateway: Gateway;
  /** Drains the gateway, then stops the conversation service and deregisters it. */
  close(): Promise<void>;
}

/** One finished conversation, as the service answers it. */
interface ConversationView {
  sessionId: string;
  userId: string;
  transcript: string | undefined;
  reply: string | undefined;
  completedSteps: string[];
  durationMs: number;
  frames: number;
}

function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () =>
      size > limit
        ? reject(new ServiceError(ServiceErrorCode.BAD_REQUEST, `body larger than ${limit} bytes`))
        : resolve(Buffer.concat(chunks).toString('utf8')),
    );
  });
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  data: unknown,
  requestId: string | undefined,
): void {
  const body = JSON.stringify({ success: true, data, timestamp: new Date().toISOString(), requestId });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * The conversation service: `POST /conversations` (`{ sessionId?, text }` or `{ audio: base64 }`)
 * runs one saga and answers its outcome; `GET /conversations/:sessionId` the last outcome of a
 * session; `GET /health`. The user is the token's `sub`, verified again here: the gateway is the
 * first check, not the only one.
 */
function conversationService(orchestrator: ConversationOrchestrator, jwtSecret: string): http.Server {
  const sessions = new Map<string, ConversationView>();
  let counter = 0;
  const handle = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    requestId: string | undefined,
  ) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/health') {
      res.writeHead(200).end();
      return;
    }
    const token = (req.headers.authorization ?? '').replace(/^Bearer /i, '');
    let userId: string;
    try {
      userId = String((jwt.verify(token, jwtSecret, { algorithms: ['HS256'] }) as jwt.JwtPayload).sub);
    } catch (error) {
      throw new ServiceError(
        ServiceErrorCode.UNAUTHORIZED,
        'A valid user token is required',
        CONVERSATION_SERVICE,
        { cause: error },
      );
    }
    const match = /^\/conversations(?:\/([\w.-]+))?\/?$/.exec(path);
    if (match === null) throw new ServiceError(ServiceErrorCode.NOT_FOUND, `No such resource: ${path}`);
    if (req.method === 'GET' && match[1] !== undefined) {
      const view = sessions.get(match[1]);
      if (view === undefined || view.userId !== userId)
        throw new ServiceError(ServiceErrorCode.NOT_FOUND, `No conversation ${match[1]}`);
      sendJson(res, 200, view, requestId);
      return;
    }
    if (req.method !== 'POST' || match[1] !== undefined)
      throw new ServiceError(ServiceErrorCode.NOT_FOUND, `${req.method} ${path} is not served`);
    let input: { sessionId?: unknown; text?: unknown; audio?: unknown };
    try {
      input = JSON.parse(await readBody(req, 1024 * 1024)) as typeof input;
    } catch (error) {
      throw ServiceError.from(error).code === ServiceErrorCode.BAD_REQUEST
        ? error
        : new ServiceError(
            ServiceErrorCode.BAD_REQUEST,
            'body must be JSON: { "text": "…" } or { "audio": "<base64 PCM16>" }',
          );
    }
    const audio =
      typeof input.audio === 'string'
        ? Buffer.from(input.audio, 'base64')
        : typeof input.text === 'string' && input.text.length > 0
          ? encodeSpeech(input.text)
          : undefined;
    if (audio === undefined)
      throw new ServiceError(
        ServiceErrorCode.BAD_REQUEST,
        'text (a non-empty string) or audio (base64) is required',
      );
    const sessionId =
      typeof input.sessionId === 'string' && /^[\w.-]{1,64}$/.test(input.sessionId)
        ? input.sessionId
        : `http-${++counter}`;
    const { saga, frames } = await orchestrator.converse({ userId, sessionId, audio });
    if (!saga.success) {
      const cause = saga.error;
      throw new ServiceError(
        cause?.code ?? ServiceErrorCode.INTERNAL_ERROR,
        `conversation failed at ${saga.failedStep}: ${cause?.message ?? 'unknown error'}`,
        CONVERSATION_SERVICE,
        { cause, metadata: { failedStep: saga.failedStep, compensatedSteps: saga.compensatedSteps } },
      );
    }
    const view: ConversationView = {
      sessionId,
      userId,
      transcript: saga.context.transcript,
      reply: saga.context.llmResponse,
      completedSteps: saga.completedSteps,
      durationMs: Math.round(saga.durationMs),
      frames,
    };
    sessions.set(sessionId, view);
    sendJson(res, 201, view, requestId);
  };
  // A SERVER span per request (continuing a caller's `traceparent`, which the gateway forwards),
  // so the conversation a POST runs is its child; a no-op without an OpenTelemetry SDK.
  const traced = tracingMiddleware(createTracer({ serviceName: CONVERSATION_SERVICE }));
  return http.createServer((req, res) => {
    const requestId = req.headers['x-request-id'] as string | undefined;
    traced(req, res, () =>
      handle(req, res, requestId).catch((error: unknown) =>
        writeErrorResponse(res, error, { requestId, exposeDetails: true }),
      ),
    );
  });
}

/**
 * Starts the conversation service (registered as `conversation-service-1`) and the gateway in
 * front of it. The caller keeps owning the orchestrator and the registry.
 */
export async function startGatewayFront(options: GatewayFrontOptions): Promise<GatewayFront> {
  const { orchestrator, registry, jwtSecret } = options;
  const service = conversationService(orchestrator, jwtSecret);
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  const port = (service.address() as AddressInfo).port;
  registry.register({
    serviceId: `${CONVERSATION_SERVICE}-1`,
    serviceName: CONVERSATION_SERVICE,
    host: '127.0.0.1',
    port,
    protocol: 'http',
    healthCheckUrl: '/health',
  });
  const limiter = new RateLimiter({
    tiers: [
      { limit: 10, windowMs: 1_000, name: 'second' },
      { limit: 100, windowMs: 10_000, name: 'ten-seconds' },
      { limit: 1_000, windowMs: 60_000, name: 'minute' },
    ],
  });
  const registryApi = createRegistryHttpApi(registry, { prefix: '/api/v1/registry' });
  const gateway = createGateway({
    routes: [{ path: '/api/v1/conversations/*', service: CONVERSATION_SERVICE, auth: true }],
    discovery: registry,
    auth: createUserTokenVerifier({ secret: jwtSecret }),
    rateLimits: limiter,
    mounts: [registryApi],
    // A saga may take seconds; the gateway waits for it rather than answering 504.
    upstreamTimeoutMs: 60_000,
    ...(options.healthCheckIntervalMs === undefined
      ? {}
      : { healthCheckIntervalMs: options.healthCheckIntervalMs }),
  });
  const url = await gateway.listen(options.port ?? 0);
  const token = jwt.sign({ sub: 'user-123', email: 'user@example.com', role: 'seller' }, jwtSecret, {
    algorithm: 'HS256',
    expiresIn: 3600,
  });
  return {
    url,
    token,
    gateway,
    close: async () => {
      await gateway.close();
      registryApi.close();
      await limiter.close();
      registry.deregister(`${CONVERSATION_SERVICE}-1`);
      service.closeAllConnections();
      await new Promise<void>((resolve) => service.close(() => resolve()));
    },
  };
}
