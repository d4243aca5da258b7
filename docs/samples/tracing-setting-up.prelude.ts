// provides: logger, app, db
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@clone/service-errors';
import type { TracedRequest, TracerSpan } from '@clone/telemetry';

type Next = (error?: unknown) => void;
type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;
type Request = TracedRequest & { body: unknown; span: TracerSpan };
type Response = ServerResponse & { json(value: unknown): void };
type Route = (req: Request, res: Response) => Promise<void>;

/**
 * A real HTTP server with a connect-style `app` (`use`, `post`, JSON bodies, `res.json`) and an
 * in-memory `db.users`. The teardown posts a user with a W3C `traceparent` and checks the
 * route ran with `req.span` set by the middleware and stored the row. Without an SDK the spans
 * are no-ops; the package's tests check them against the real SDK.
 */
export default async function setup() {
  const logger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
  const rows: unknown[] = [];
  const db = {
    users: {
      insert: async (user: unknown) => {
        rows.push(user);
        return { id: rows.length, ...(user as object) };
      },
    },
  };
  const middlewares: Middleware[] = [];
  const routes = new Map<string, Route>();
  let spanSeen = false;
  const app = {
    use: (fn: Middleware) => void middlewares.push(fn),
    post: (path: string, route: Route) => void routes.set(`POST ${path}`, route),
  };
  const server = createServer((req, res) => {
    const run = (i: number): void => {
      const middleware = middlewares[i];
      if (middleware !== undefined) {
        middleware(req, res, () => run(i + 1));
        return;
      }
      const route = routes.get(`${req.method} ${req.url}`);
      if (route === undefined) {
        res.statusCode = 404;
        res.end();
        return;
      }
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        const request = Object.assign(req, { body: JSON.parse(body) }) as Request;
        spanSeen = typeof request.span?.setAttribute === 'function';
        const response = Object.assign(res, {
          json: (value: unknown) => {
            res.statusCode = 201;
            res.setHeader('content-type', 'application/json');
            res.end(JSON.stringify(value));
          },
        });
        route(request, response).catch(() => {
          res.statusCode = 500;
          res.end();
        });
      });
    };
    run(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/users`;
  return {
    logger,
    app,
    db,
    teardown: async () => {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
          body: JSON.stringify({ name: 'Ada' }),
        });
        const user = await res.json();
        if (res.status !== 201 || !spanSeen || rows.length !== 1)
          throw new Error(
            `unexpected: ${res.status} ${JSON.stringify(user)}, span ${spanSeen}, rows ${rows.length}`,
          );
        console.log('POST /api/users', res.status, user);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    },
  };
}
