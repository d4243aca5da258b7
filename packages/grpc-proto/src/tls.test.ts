import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { type Certificates, type KeyPair, makeCertificates } from '@clone/test-servers';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ClientFactory,
  type ClientFactoryOptions,
  createServiceServer,
  ServiceCommunicationManager,
  type ServiceServer,
} from './index';

/**
 * TLS and mutual TLS with real certificates made at test time by `openssl` (a CA, a server
 * certificate for localhost/127.0.0.1, a client certificate, and an impostor CA with a client
 * certificate of its own), between our client factory / manager and `createServiceServer`.
 */
const SECRET = 'grpc-proto-tls-test-secret-0123456789-abcdefghijk';

let certs: Certificates;
const servers: ServiceServer[] = [];
const closers: (() => unknown)[] = [];

beforeAll(() => {
  certs = makeCertificates();
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  for (const server of servers.splice(0)) {
    server.server.forceShutdown();
    await server.shutdown();
  }
});
afterAll(() => certs?.remove());

/** A TLS server whose `asr.Transcribe` answers with the caller's verified certificate, if any. */
async function tlsServer(
  options: { mutual?: boolean; pair?: KeyPair; auth?: boolean } = {},
): Promise<{ port: number; handled: () => number }> {
  const pair = options.pair ?? certs.server;
  let handled = 0;
  const server = createServiceServer({
    auth: options.auth === true ? { jwtSecret: SECRET } : false,
    handleSignals: false,
    services: {
      asr: {
        Transcribe: (call, callback) => {
          handled++;
          // Set only for a client certificate the server verified.
          const peer = call.getAuthContext().sslPeerCertificate?.subject?.CN;
          callback(null, { transcript: peer === undefined ? 'anonymous' : `client certificate ${peer}` });
        },
        StreamTranscribe: (call) => call.end(),
      },
    },
    credentials: grpc.ServerCredentials.createSsl(
      certs.ca,
      [{ cert_chain: pair.cert, private_key: pair.key }],
      options.mutual === true,
    ),
  });
  servers.push(server);
  const port = await server.listen(0, '127.0.0.1');
  return { port, handled: () => handled };
}

/** One `Transcribe` through a fresh `ClientFactory` with `credentials`. */
async function transcribe(credentials: ClientFactoryOptions['credentials'], target: string): Promise<string> {
  const factory = new ClientFactory({ credentials, defaultDeadlineMs: 10_000 });
  closers.push(() => factory.close());
  const reply = await factory.create('asr', target).promises.Transcribe({});
  return reply.transcript;
}

/** A manager whose clients speak mutual TLS: trust the CA, present the client certificate. */
function mutualTlsManager(): ServiceCommunicationManager {
  const comm = new ServiceCommunicationManager({
    serviceId: 'orchestrator-1',
    serviceName: 'orchestrator',
    jwtSecret: SECRET,
    tokenExpirySeconds: 3600,
    healthCheckIntervalMs: 30_000,
    enableServiceDiscovery: true,
    retry: { maxAttempts: 1 },
    client: {
      credentials: { rootCerts: certs.ca, certChain: certs.client.cert, privateKey: certs.client.key },
    },
  });
  closers.push(() => comm.close());
  return comm;
}

/** The ServiceError a call that must fail rejected with. */
async function refused(call: Promise<unknown>): Promise<ServiceError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ServiceError);
  return error as ServiceError;
}

describe('TLS', () => {
  it('a client trusting the CA talks to a TLS server by IP and by name', async () => {
    const { port } = await tlsServer();
    expect(await transcribe({ rootCerts: certs.ca }, `127.0.0.1:${port}`)).toBe('anonymous');
    expect(await transcribe({ rootCerts: certs.ca.toString() }, `localhost:${port}`)).toBe('anonymous');
  });

  it('the client checks the server name: a name not in the certificate fails unless serverName says which to expect', async () => {
    // A certificate for orders.internal only, served on 127.0.0.1 (e.g. an instance registered by IP).
    const orders = certs.issue('orders', { usage: 'server', dns: ['orders.internal'] });
    const { port, handled } = await tlsServer({ pair: orders });
    const mismatch = await refused(transcribe({ rootCerts: certs.ca }, `127.0.0.1:${port}`));
    expect(mismatch.code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
    expect(mismatch.message).toMatch(/does not match|altnames/i);
    const wrongName = await refused(
      transcribe({ rootCerts: certs.ca, serverName: 'billing.internal' }, `127.0.0.1:${port}`),
    );
    expect(wrongName.code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
    expect(handled()).toBe(0);
    expect(
      await transcribe({ rootCerts: certs.ca, serverName: 'orders.internal' }, `127.0.0.1:${port}`),
    ).toBe('anonymous');
    // And the localhost certificate does not pass for another name either.
    const other = await tlsServer();
    const renamed = await refused(
      transcribe({ rootCerts: certs.ca, serverName: 'orders.internal' }, `127.0.0.1:${other.port}`),
    );
    expect(renamed.code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
  });

  it('a client that does not trust the server CA refuses the connection', async () => {
    const { port, handled } = await tlsServer();
    const untrusted = await refused(transcribe({ rootCerts: certs.otherCa }, `127.0.0.1:${port}`));
    expect(untrusted.code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
    expect(untrusted.message).toMatch(/self-signed certificate|unable to verify/);
    // Node's root store does not know a CA made a moment ago either.
    const defaults = await refused(transcribe({}, `localhost:${port}`));
    expect(defaults.code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
    // Nor does a plaintext client get anywhere.
    const plaintext = await refused(transcribe('insecure', `127.0.0.1:${port}`));
    expect(plaintext.code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
    expect(handled()).toBe(0);
  });
});

describe('mutual TLS', () => {
  it('the server sees the client certificate (PEM contents or files)', async () => {
    const { port } = await tlsServer({ mutual: true });
    expect(
      await transcribe(
        { rootCerts: certs.ca, certChain: certs.client.cert, privateKey: certs.client.key },
        `127.0.0.1:${port}`,
      ),
    ).toBe('client certificate client');
    expect(
      await transcribe(
        {
          rootCertsFile: certs.caFile,
          certChainFile: certs.client.certFile,
          privateKeyFile: certs.client.keyFile,
        },
        `localhost:${port}`,
      ),
    ).toBe('client certificate client');
  });

  it('the server refuses a client without a certificate and one whose certificate another CA signed', async () => {
    const { port, handled } = await tlsServer({ mutual: true });
    const anonymous = await refused(transcribe({ rootCerts: certs.ca }, `127.0.0.1:${port}`));
    expect(anonymous.code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
    expect(anonymous.message).toMatch(/certificate required/);
    const impostor = await refused(
      transcribe(
        { rootCerts: certs.ca, certChain: certs.otherClient.cert, privateKey: certs.otherClient.key },
        `127.0.0.1:${port}`,
      ),
    );
    expect(impostor.code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
    expect(handled()).toBe(0);
  });

  it('through ServiceCommunicationManager: mTLS and a signed token on every call', async () => {
    const { port } = await tlsServer({ mutual: true, auth: true });
    const comm = mutualTlsManager();
    const asr = comm.createASRClient({ host: '127.0.0.1', port }, ['asr:read']);
    const reply = await comm.executeServiceCall('asr', () => asr.promises.Transcribe({}));
    expect(reply.transcript).toBe('client certificate client');
  });

  it('found by name through discovery, an instance must present a certificate for that name', async () => {
    // The certificate is checked against the name looked up (the target's authority), not the
    // address the registry returned: holding a valid certificate of the CA is not enough to
    // pass for another service.
    const asrCert = certs.issue('asr-service', { usage: 'server', dns: ['asr'] });
    const { port, handled } = await tlsServer({ mutual: true, auth: true, pair: asrCert });
    const comm = mutualTlsManager();
    const registry = comm.getServiceRegistry();
    registry.register({ serviceId: 'asr-1', serviceName: 'asr', host: '127.0.0.1', port, protocol: 'grpc' });
    registry.register({
      serviceId: 'canary-1',
      serviceName: 'asr-canary',
      host: '127.0.0.1',
      port,
      protocol: 'grpc',
    });
    const asr = comm.createASRClient('asr', ['asr:read']);
    const reply = await comm.executeServiceCall('asr', () => asr.promises.Transcribe({}));
    expect(reply.transcript).toBe('client certificate client');
    const canary = comm.createClient('asr', 'asr-canary', ['asr:read']);
    const error = await refused(comm.executeServiceCall('asr-canary', () => canary.promises.Transcribe({})));
    expect(error.code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
    expect(error.message).toMatch(/asr-canary\. is not in the cert's altnames: DNS:asr/);
    expect(handled()).toBe(1);
  });

  it("the manager's own health checks use its TLS settings, so TLS instances found by name stay healthy", async () => {
    // The registry checks the instance at its registered address, the clients by the name they
    // looked up: the certificate names both (a plaintext check of a TLS server would fail).
    const asrCert = certs.issue('asr-checked', { usage: 'server', dns: ['asr'], ips: ['127.0.0.1'] });
    const { port } = await tlsServer({ mutual: true, auth: true, pair: asrCert });
    const comm = mutualTlsManager();
    const registry = comm.getServiceRegistry();
    const checked = new Promise<string>((resolve) =>
      registry.on('healthChanged', (e) => resolve(`${e.current}${e.error ? `: ${e.error.message}` : ''}`)),
    );
    registry.register({ serviceId: 'asr-1', serviceName: 'asr', host: '127.0.0.1', port, protocol: 'grpc' });
    comm.startHealthChecks();
    // The first check's verdict (a plaintext check of a TLS server would find it unhealthy).
    expect(await checked).toBe('healthy');
    expect(registry.getHealthyInstances('asr').map((i) => i.serviceId)).toEqual(['asr-1']);
    const asr = comm.createASRClient('asr', ['asr:read']);
    const reply = await comm.executeServiceCall('asr', () => asr.promises.Transcribe({}));
    expect(reply.transcript).toBe('client certificate client');
  });
});

describe('TLS settings', () => {
  it('a half-given key pair, an unreadable file or a PEM that does not parse is a BAD_REQUEST naming the field', () => {
    const rejection = (credentials: ClientFactoryOptions['credentials']): unknown => {
      try {
        new ClientFactory({ credentials }).close();
        return undefined;
      } catch (error) {
        return error;
      }
    };
    for (const [credentials, field] of [
      [{ rootCerts: certs.ca, certChain: certs.client.cert }, 'privateKey'],
      [{ rootCerts: certs.ca, privateKey: certs.client.key }, 'certChain'],
      [{ rootCertsFile: `${certs.dir}/missing.pem` }, 'rootCertsFile'],
      [
        { rootCerts: certs.ca, certChainFile: certs.client.certFile, privateKeyFile: certs.dir },
        'privateKeyFile',
      ],
      [{ rootCerts: 'not a certificate' }, 'rootCerts'],
      [{ rootCerts: certs.ca, rootCertsFile: certs.caFile }, 'rootCerts'],
      [{ rootCerts: certs.ca, certChain: certs.client.cert, privateKey: certs.server.key }, 'privateKey'],
    ] as const) {
      const error = rejection(credentials);
      expect(error).toBeInstanceOf(ServiceError);
      expect((error as ServiceError).code).toBe(ServiceErrorCode.BAD_REQUEST);
      expect((error as ServiceError).message).toContain(field);
    }
  });
});
