import { createServiceServer, type ServiceServer, type ServiceServerOptions } from '../server';

/** A 48-byte secret shared by the tests' clients and servers. */
export const TEST_SECRET = 'grpc-proto-test-secret-0123456789-abcdefghijklmn';

/** Starts a server on 127.0.0.1 on a free port; `stop()` shuts it down at once. */
export async function startServer(
  options: Omit<ServiceServerOptions, 'auth'> & { auth?: ServiceServerOptions['auth'] },
): Promise<ServiceServer & { address: string; stop(): Promise<void> }> {
  const server = createServiceServer({ auth: { jwtSecret: TEST_SECRET }, handleSignals: false, ...options });
  const port = await server.listen(0, '127.0.0.1');
  return Object.assign(server, {
    address: `127.0.0.1:${port}`,
    stop: async () => {
      server.server.forceShutdown();
      await server.shutdown();
    },
  });
}
