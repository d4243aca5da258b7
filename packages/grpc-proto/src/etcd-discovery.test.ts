import { EtcdBackend } from '@clone/service-discovery/etcd';
import { type EtcdServer, startEtcd } from '@clone/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORRELATION_ID_HEADER } from './call-context';
import { ServiceCommunicationManager } from './service-communication-manager';
import { startServer, TEST_SECRET } from './test-support/servers';

describe('ServiceCommunicationManager with the etcd discovery backend', () => {
  let etcd: EtcdServer;

  beforeAll(async () => {
    etcd = await startEtcd();
  });

  afterAll(async () => {
    await etcd?.stop();
  });

  it('finds a service another manager registered in etcd and calls it by name', async () => {
    const seen: string[] = [];
    const asrServer = await startServer({
      services: {
        asr: {
          Transcribe: (call, callback) => {
            seen.push(call.metadata.get(CORRELATION_ID_HEADER)[0] as string);
            callback(null, { transcript: 'via etcd' });
          },
          StreamTranscribe: (call) => call.end(),
        },
      },
      requirePermissions: { asr: ['asr:read'] },
    });
    const config = {
      jwtSecret: TEST_SECRET,
      tokenExpirySeconds: 3600,
      healthCheckIntervalMs: 30000,
      enableServiceDiscovery: true,
    };
    // The ASR process registers itself …
    const asrSide = new ServiceCommunicationManager({
      ...config,
      serviceId: 'asr-service-1',
      serviceName: 'asr',
      discoveryBackend: new EtcdBackend({ hosts: etcd.endpoint }),
    });
    // … and the websocket server (created last: its registry backs the `clone:` resolver) finds it.
    const wsSide = new ServiceCommunicationManager({
      ...config,
      serviceId: 'websocket-server-1',
      serviceName: 'websocket-server',
      discoveryBackend: new EtcdBackend({ hosts: etcd.endpoint }),
    });
    try {
      asrSide.getServiceRegistry().register({
        serviceId: 'asr-service-1',
        serviceName: 'asr',
        host: '127.0.0.1',
        port: asrServer.port,
        protocol: 'grpc',
      });
      const registry = wsSide.getServiceRegistry();
      await new Promise<void>((resolve) => {
        if (registry.getHealthyInstances('asr').length > 0) resolve();
        else registry.on('registered', (e) => e.instance.serviceName === 'asr' && resolve());
      });
      const asr = wsSide.createClient('asr');
      const reply = await wsSide.executeServiceCall('asr', () => asr.promises.Transcribe({}), {
        correlationId: 'etcd-1',
      });
      expect(reply.transcript).toBe('via etcd');
      expect(seen).toEqual(['etcd-1']);
    } finally {
      await wsSide.close();
      await asrSide.close();
      await asrServer.stop();
    }
  });
});
