// provides: logger, axios, url
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createServiceAuth,
  type ServiceAuthenticatedRequest,
  type ServiceIdentity,
  serviceAuthMiddleware,
} from '@clone/service-auth';
import { noopLogger } from '@clone/service-errors';

/**
 * The guide's "Setting Up Service Auth" sample: `SERVICE_SECRET` set beside `JWT_SECRET` as the
 * guide's deployment does, `url` an endpoint of a real `access-service` (node:http on loopback)
 * protected by `serviceAuthMiddleware` with the same secrets, and `axios` the one call the
 * sample makes, on fetch. Teardown checks the call got through as `auth-service`.
 */
export default async function setup() {
  process.env.SERVICE_SECRET = 'docs-sample-service-secret-0123456789-abcdefgh';
  const accessAuth = createServiceAuth({
    serviceName: 'access-service',
    serviceSecret: process.env.SERVICE_SECRET,
    jwtSecret: process.env.JWT_SECRET,
  });
  const guard = serviceAuthMiddleware(accessAuth, ['internal:read']);
  const callers: ServiceIdentity[] = [];
  const server = createServer((req, res) =>
    guard(req, res, () => {
      callers.push((req as IncomingMessage & ServiceAuthenticatedRequest).serviceIdentity);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify([{ id: 'door-1', name: 'Main Entrance' }]));
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/internal/doors`;
  const statuses: number[] = [];
  const axios = {
    async get(target: string, config: { headers: Record<string, string> }) {
      const res = await fetch(target, { headers: config.headers });
      statuses.push(res.status);
      return { status: res.status, data: (await res.json()) as unknown };
    },
  };
  return {
    logger: noopLogger,
    axios,
    url,
    teardown: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      if (statuses.join() !== '200' || callers[0]?.name !== 'auth-service')
        throw new Error(`statuses ${statuses}, callers ${JSON.stringify(callers.map((c) => c.name))}`);
    },
  };
}
