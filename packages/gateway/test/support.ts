/** Shared by this package's tests: real node:http upstreams on loopback, a registry, tokens. */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServiceRegistry } from '@clone/service-discovery';
import jwt from 'jsonwebtoken';
import { request } from 'undici';
import { createGateway, type Gateway, type GatewayOptions } from '../src/index';

export const SECRET = 'a-test-secret-that-is-long-enough-for-hs256-0123456789';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

/** Answers with what it received, as JSON: which instance, method, URL, headers and body. */
export const echo =
  (name: string): Handler =>
  (req, res, body) => {
    const payload = JSON.stringify({
      instance: name,
      method: req.method,
      url: req.url,
      headers: req.headers,
      body,
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(payload);
  };

export interface Upstream {
  readonly name: string;
  port: number;
  hits: number;
  handler: Handler;
  healthy: boolean;
  /** Stops listening and cuts every connection: the instance is dead. */
  kill(): Promise<void>;
  /** Listens again on the same port. */
  revive(): Promise<void>;
}

const open: Upstream[] = [];

/** A real HTTP instance on 127.0.0.1; `GET /health` answers 200 while `healthy`. */
export async function startUpstream(name: string, handler: Handler = echo(name)): Promise<Upstream> {
  let server: http.Server;
  const upstream: Upstream = {
    name,
    port: 0,
    hits: 0,
    handler,
    healthy: true,
    kill: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    revive: () => listen(upstream.port),
  };
  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          if (req.url === '/health') {
            res.writeHead(upstream.healthy ? 200 : 503);
            res.end();
            return;
          }
          upstream.hits++;
          upstream.handler(req, res, Buffer.concat(chunks).toString());
        });
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        upstream.port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  await listen(0);
  open.push(upstream);
  return upstream;
}

/** Stops every upstream a test started. */
export async function stopUpstreams(): Promise<void> {
  await Promise.allSettled(open.splice(0).map((u) => u.kill()));
}

/** A memory registry holding `upstreams` under `service`. */
export function registryOf(entries: Record<string, Upstream[]>): ServiceRegistry {
  const registry = new ServiceRegistry();
  for (const [service, list] of Object.entries(entries))
    for (const u of list)
      registry.register({
        serviceId: u.name,
        serviceName: service,
        host: '127.0.0.1',
        port: u.port,
        protocol: 'http',
      });
  return registry;
}

/** A user token as the user service signs it. */
export function userToken(
  claims: Record<string, unknown> = {},
  secret = SECRET,
  options: jwt.SignOptions = {},
): string {
  return jwt.sign({ sub: 'user_id_123', email: 'seller@example.com', role: 'seller', ...claims }, secret, {
    algorithm: 'HS256',
    ...('exp' in claims ? {} : { expiresIn: 3600 }),
    ...options,
  });
}

/** A gateway listening on a free loopback port, closed with the registry by `close()`. */
export async function startGateway(
  options: GatewayOptions & { discovery: ServiceRegistry },
): Promise<{ gateway: Gateway; url: string; close(): Promise<void> }> {
  const gateway = createGateway({ healthCheckIntervalMs: 3_600_000, ...options });
  const url = await gateway.listen();
  return {
    gateway,
    url,
    close: async () => {
      await gateway.close();
      await options.discovery.close();
    },
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** One request through undici; the body is read whole. */
export async function call(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal } = {},
): Promise<Answer> {
  const res = await request(url, {
    method: (options.method ?? 'GET') as 'GET',
    ...(options.headers === undefined ? {} : { headers: options.headers }),
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}
