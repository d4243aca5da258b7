import { CircuitState } from '@clone/service-errors';
import { describe, expect, it } from 'vitest';
import { ServiceCommunicationManager } from './service-communication-manager';
import { useCleanups } from './test-support/fixtures';
import { TEST_SECRET } from './test-support/servers';

const defer = useCleanups();

describe('configFromEnv', () => {
  it('reads the design document variables in fromEnv', () => {
    const m = ServiceCommunicationManager.fromEnv(
      {
        JWT_SECRET: TEST_SECRET,
        SERVICE_NAME: 'websocket-server',
        ASR_SERVICE_HOST: '127.0.0.1',
        ASR_SERVICE_PORT: '1',
        CIRCUIT_BREAKER_FAILURE_THRESHOLD: '7',
        RETRY_MAX_ATTEMPTS: '4',
        HEALTH_CHECK_INTERVAL: '1000',
      },
      { retry: { initialDelayMs: 0 } },
    );
    defer(() => m.close());
    expect(m.createASRClient().getChannel().getTarget()).toContain('127.0.0.1:1');
    expect(m.getCircuitBreaker('asr').getStats().state).toBe(CircuitState.CLOSED);
    expect(() => ServiceCommunicationManager.fromEnv({ SERVICE_NAME: 'x' })).toThrow(/JWT_SECRET/);
    expect(() => ServiceCommunicationManager.fromEnv({ JWT_SECRET: 'short' })).toThrow(
      /JWT_SECRET must be at least 32 bytes/,
    );
    // Only the seed's variables: SERVICE_NAME is optional.
    const seedOnly = ServiceCommunicationManager.fromEnv({
      JWT_SECRET: TEST_SECRET,
      ASR_SERVICE_HOST: 'asr',
    });
    defer(() => seedOnly.close());
    expect(seedOnly.createASRClient().getChannel().getTarget()).toContain('asr:50051');
    expect(() =>
      ServiceCommunicationManager.fromEnv({
        SERVICE_NAME: 'x',
        JWT_SECRET: TEST_SECRET,
        RETRY_MAX_ATTEMPTS: 'many',
      }),
    ).toThrow(/RETRY_MAX_ATTEMPTS/);
    // A port no endpoint can have, named by its variable.
    for (const port of ['70000', '0', '-1']) {
      expect(() =>
        ServiceCommunicationManager.fromEnv({
          JWT_SECRET: TEST_SECRET,
          ASR_SERVICE_HOST: 'asr',
          ASR_SERVICE_PORT: port,
        }),
      ).toThrow(/ASR_SERVICE_PORT/);
    }
  });
});
