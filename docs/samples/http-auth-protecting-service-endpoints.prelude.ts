// provides: app, serviceAuth
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServiceAuth, type ServiceAuthenticatedRequest } from '@clone/service-auth';

type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
type Route = (req: IncomingMessage & ServiceAuthenticatedRequest, res: ServerResponse) => void;

/**
 * The guide's "Protecting Service Endpoints" sample: `app` is the part of Express it uses
 * (`use(prefix, middleware)`, `get(path, handler)`) over a real node:http server on loopback,
 * and `serviceAuth` is `access-service`'s. Teardown calls the endpoint as the guide's callers
 * would: without a token (401 in the gateway's error format), with a token lacking the
 * permission (403), and as `auth-service` with it (the handler sees `serviceIdentity`).
 */
export default async function setup() {
  const secrets = {
    jwtSecret: process.env.JWT_SECRET,
    serviceSecret: 'docs-sample-service-secret-0123456789-abcdefgh',
  };
  const serviceAuth = createServiceAuth({ serviceName: 'access-service', ...secrets });
  const layers: Array<{ prefix: string; run: Middleware }> = [];
  const seen: string[] = [];
  const app = {
    use(prefix: string, middleware: Middleware) {
      layers.push({ prefix, run: middleware });
    },
    get(path: string, handler: Route) {
      layers.push({
        prefix: path,
        run: (req, res) => {
          if (req.method !== 'GET' || req.url !== path) return void res.writeHead(404).end();
          handler(req as IncomingMessage & ServiceAuthenticatedRequest, res);
          seen.push((req as IncomingMessage & ServiceAuthenticatedRequest).serviceIdentity.name);
          // Express would leave a request its handler did not answer hanging; we end it.
          if (!res.writableEnded) res.writeHead(204).end();
        },
      });
    },
  };
  const server = createServer((req, res) => {
    const matching = layers.filter((l) => req.url === l.prefix || req.url?.startsWith(`${l.prefix}/`));
    const next = (i: number): void => {
      const layer = matching[i];
      if (layer === undefined) return void res.writeHead(404).end();
      layer.run(req, res, () => next(i + 1));
    };
    next(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    app,
    serviceAuth,
    teardown: async () => {
      try {
        const anonymous = await fetch(`${base}/internal/data`);
        const body = (await anonymous.json()) as { success?: unknown; statusCode?: unknown };
        if (anonymous.status !== 401 || body.success !== false || body.statusCode !== 401)
          throw new Error(`without a token: ${anonymous.status} ${JSON.stringify(body)}`);
        const reader = createServiceAuth({
          serviceName: 'report-service',
          ...secrets,
          permissions: ['reports:read'],
        });
        const denied = await fetch(`${base}/internal/data`, {
          headers: reader.createAuthHeader('access-service'),
        });
        if (denied.status !== 403) throw new Error(`without the permission: ${denied.status}`);
        const caller = createServiceAuth({ serviceName: 'auth-service', ...secrets });
        const ok = await fetch(`${base}/internal/data`, {
          headers: caller.createAuthHeader('access-service'),
        });
        if (ok.status !== 204 || seen.join() !== 'auth-service')
          throw new Error(`as auth-service: ${ok.status} ${seen}`);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    },
  };
}
