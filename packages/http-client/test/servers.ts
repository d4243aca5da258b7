/** Real servers on loopback for the tests: node:http, a raw socket server, a child process. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { afterEach } from 'vitest';
import { ServiceClient } from '../src/service-client';
import type { ServiceClientOptions } from '../src/service-client-options';

export interface TestServer {
  url: string;
  port: number;
  server: Server;
  /** Requests received so far. */
  requests: IncomingMessage[];
  close(): Promise<void>;
}

/** A node:http server on 127.0.0.1 (random port) answering with `handler`. */
export async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse, index: number) => void,
): Promise<TestServer> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    handler(req, res, requests.length - 1);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Reads a request's body as text. */
export async function bodyOf(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text;
}

/** Answers `status` with a JSON body. */
export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * A keep-alive server whose sockets go stale: it answers the first request of each connection
 * and then, when the next request arrives on that connection, closes it without a byte, as a
 * server does whose idle timeout fired while the request was on the wire (undici #3492).
 */
export async function startStaleSocketServer(): Promise<{
  url: string;
  connections: () => number;
  requests: () => number;
  close(): Promise<void>;
}> {
  let connections = 0;
  let requests = 0;
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let served = 0;
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      while (buffered.includes('\r\n\r\n')) {
        buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4);
        if (served++ === 0) {
          requests++;
          const body = JSON.stringify({ ok: true, connection: connections });
          socket.write(
            `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: keep-alive\r\nkeep-alive: timeout=60\r\n\r\n${body}`,
          );
        } else {
          socket.destroy();
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A callee in a child process that kills itself (SIGKILL) in the middle of its first answer:
 * headers and half a body sent, then the process is gone.
 */
export async function startDoomedCallee(): Promise<{
  url: string;
  child: ChildProcess;
  exited: Promise<unknown>;
}> {
  const script = `
    const http = require('node:http');
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"partial":');
      setImmediate(() => process.kill(process.pid, 'SIGKILL'));
    });
    server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', () => reject(new Error('callee exited before listening')));
  });
  return { url: `http://127.0.0.1:${port}`, child, exited };
}

/** The ServiceError-like rejection of `p`; fails if it resolves. */
export async function rejection(p: Promise<unknown>): Promise<import('@clone/service-errors').ServiceError> {
  try {
    await p;
  } catch (e) {
    return e as import('@clone/service-errors').ServiceError;
  }
  throw new Error('expected a rejection');
}

/** A fake clock for the client: time stands still until `advance(ms)`, which runs the timers it passes, in order. */
export function manualClock(start: number) {
  let now = start;
  let timers: Array<{ at: number; fn: () => void; id: number }> = [];
  let nextId = 0;
  const clock = {
    now: () => now,
    setTimeout: (fn: () => void, ms: number) => {
      const id = nextId++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (id: unknown) => {
      timers = timers.filter((t) => t.id !== id);
    },
  };
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = timers[0];
      if (next === undefined || next.at > end) break;
      timers.shift();
      now = next.at;
      next.fn();
    }
    now = end;
  };
  return { clock, advance };
}

/**
 * What a test file starts and must close: registers an afterEach that closes, newest first,
 * every server from `serve`, every client from `client` and whatever `defer` was given.
 */
export function testScope() {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return {
    defer(cleanup: () => Promise<unknown> | unknown): void {
      cleanups.push(cleanup);
    },
    async serve(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
      const server = await startServer(handler);
      cleanups.push(() => server.close());
      return server;
    },
    /** A client of `access-service` (2 retries, no backoff unless `options` says otherwise). */
    client(options: Partial<ServiceClientOptions>): ServiceClient {
      const c = new ServiceClient({
        serviceName: 'access-service',
        retryPolicy: { maxRetries: 2, initialDelay: 0 },
        ...options,
      } as ServiceClientOptions);
      cleanups.push(() => c.close());
      return c;
    },
  };
}
