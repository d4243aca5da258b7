/**
 * `pnpm demo --tls`: mutual TLS on every hop of the demo. Certificates are made at start with
 * Debian's `openssl` in a temporary directory (removed at exit, and by a watchdog if the demo is
 * killed): a private CA, a certificate for each service, one for the orchestrator (CN
 * websocket-server), and an impostor CA with a client certificate of its own. A service's
 * certificate names the service (`asr`): a client that finds it by name (`clone:///asr`) checks
 * the certificate against that name, so an instance cannot pass for a service it was not issued
 * for. It also names localhost and 127.0.0.1, for clients given an explicit endpoint.
 */
import {
  ClientFactory,
  type ClientFactoryOptions,
  type ClientTarget,
  channelCredentials,
  SERVICE_KINDS,
  type ServiceKind,
} from '@clone/grpc-proto';
import { ServiceError } from '@clone/service-errors';
import type * as grpc from '@grpc/grpc-js';
import type { ServiceTls } from './services/index';

/** The demo's mutual-TLS material. */
export interface DemoTls {
  /** The temporary directory holding the certificates and keys. */
  readonly dir: string;
  /** What a service serves with: its certificate and the CA its callers must chain to. */
  server(kind: ServiceKind): ServiceTls;
  /** The same as files, for services in processes of their own (`run.ts --tls-ca … --tls-cert … --tls-key …`). */
  serverFiles(kind: ServiceKind): { ca: string; cert: string; key: string };
  /** The orchestrator's `client.credentials`: trusts the CA, presents its own certificate. */
  readonly client: NonNullable<ClientFactoryOptions['credentials']>;
  /** The same for the registry's gRPC health checks, which connect to each instance too. */
  readonly healthCheckCredentials: grpc.ChannelCredentials;
  /**
   * Calls `target`'s `HealthCheck` (open without a token, so only TLS can refuse it) as a client
   * without a certificate and as one whose certificate another CA signed; resolves with how each
   * was refused.
   */
  probeRefusals(target: ClientTarget): Promise<{ caller: string; refusal: string }[]>;
  /** Removes the certificates' directory. */
  remove(): void;
}

/** Makes the certificates (throws with the reason when `openssl` is missing). */
export async function demoTls(): Promise<DemoTls> {
  const { makeCertificates } = await import('@clone/test-servers');
  const certs = makeCertificates();
  try {
    const orchestrator = certs.issue('websocket-server', { usage: 'client', commonName: 'websocket-server' });
    const services = new Map(
      SERVICE_KINDS.map((kind) => [
        kind,
        certs.issue(`${kind}-service`, { usage: 'server', dns: [kind, 'localhost'], ips: ['127.0.0.1'] }),
      ]),
    );
    const pair = (kind: ServiceKind) => services.get(kind)!;
    const client = { rootCerts: certs.ca, certChain: orchestrator.cert, privateKey: orchestrator.key };
    const probe = async (
      caller: string,
      credentials: ClientFactoryOptions['credentials'],
      target: ClientTarget,
    ) => {
      const factory = new ClientFactory({ credentials, defaultDeadlineMs: 5_000 });
      try {
        await factory.create('asr', target).promises.HealthCheck({});
        return { caller, refusal: 'NOT REFUSED' };
      } catch (error) {
        const e = ServiceError.from(error);
        // grpc-js wraps the TLS alert in connection details: keep the reason.
        const reason = /certificate required|unknown ca|certificate unknown|bad certificate/i.exec(
          e.message,
        )?.[0];
        return { caller, refusal: `${e.code}${reason === undefined ? '' : ` (${reason})`}` };
      } finally {
        factory.close();
      }
    };
    return {
      dir: certs.dir,
      server: (kind) => ({ ca: certs.ca, cert: pair(kind).cert, key: pair(kind).key }),
      serverFiles: (kind) => ({ ca: certs.caFile, cert: pair(kind).certFile, key: pair(kind).keyFile }),
      client,
      // The same helper as the clients' channels: one set of TLS settings, one way to read them.
      healthCheckCredentials: channelCredentials(client),
      probeRefusals: async (target) => [
        await probe('a client without a certificate', { rootCerts: certs.ca }, target),
        await probe(
          'a client whose certificate another CA signed',
          { rootCerts: certs.ca, certChain: certs.otherClient.cert, privateKey: certs.otherClient.key },
          target,
        ),
      ],
      remove: () => certs.remove(),
    };
  } catch (error) {
    certs.remove();
    throw error;
  }
}
