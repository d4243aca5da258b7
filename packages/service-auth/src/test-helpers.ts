import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isServiceError, type ServiceError } from '@clone/service-errors';
import { expect } from 'vitest';

/** Shared by this package's tests: token pieces and rejection readers. */

/** base64url of a string, or of a value's JSON. */
export function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** The ServiceError `fn` throws (fails the test otherwise). */
export function rejection(fn: () => unknown): ServiceError {
  try {
    fn();
  } catch (error) {
    expect(isServiceError(error)).toBe(true);
    return error as ServiceError;
  }
  throw new Error('expected a rejection');
}

/** The `metadata.reason` of the ServiceError `fn` throws (fails the test otherwise). */
export function reasonOf(fn: () => unknown): unknown {
  return rejection(fn).metadata?.reason;
}

/** Valid service-token claims issued now for ten minutes, with `overrides` applied. */
export function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = Math.floor(Date.now() / 1000);
  return {
    sub: 'ws-1',
    serviceId: 'ws-1',
    serviceName: 'websocket-server',
    permissions: ['asr:read'],
    iat,
    exp: iat + 600,
    ...overrides,
  };
}

type Req = IncomingMessage;
type Handler = (req: Req, res: ServerResponse, next: (error?: unknown) => void) => void;

/**
 * What Express does for `app.use(prefix, fn)` and `app.get(path, fn)`, in 30 lines: handlers run
 * in order, `next()` goes on, a request nobody answers gets 404, and a route handler that
 * returns without answering gets 204 (Express would leave it hanging).
 */
export function miniApp() {
  const layers: Array<{ method?: string; path: string; exact: boolean; fn: Handler }> = [];
  const app = {
    use(path: string, fn: Handler) {
      layers.push({ path, exact: false, fn });
    },
    get(path: string, fn: (req: any, res: ServerResponse) => void) {
      layers.push({ method: 'GET', path, exact: true, fn: (req, res) => fn(req, res) });
    },
    handle(req: Req, res: ServerResponse) {
      const path = (req.url ?? '/').split('?')[0]!;
      let i = 0;
      const next = (error?: unknown): void => {
        if (error !== undefined) {
          res.statusCode = 500;
          res.end(String(error));
          return;
        }
        while (i < layers.length) {
          const layer = layers[i++]!;
          if (layer.method !== undefined && layer.method !== req.method) continue;
          const match = layer.exact
            ? path === layer.path
            : path === layer.path || path.startsWith(`${layer.path}/`);
          if (!match) continue;
          layer.fn(req, res, next);
          if (layer.exact && !res.writableEnded && !res.headersSent) {
            res.statusCode = 204;
            res.end();
          }
          return;
        }
        res.statusCode = 404;
        res.end();
      };
      next();
    },
  };
  return app;
}

/** Listens on 127.0.0.1:0; `close()` also ends keep-alive connections. */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
