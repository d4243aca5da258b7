// The manager's per-call tracing hook: asked once per executeServiceCall, the policies run
// inside its scope, and the scope ends once with the outcome and the attempt count.
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallScope, CallTelemetry } from './call-telemetry';
import { ServiceCommunicationManager } from './service-communication-manager';

const managers: ServiceCommunicationManager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.close();
});

function manager(): ServiceCommunicationManager {
  const m = new ServiceCommunicationManager({
    serviceId: 'svc-1',
    serviceName: 'svc',
    jwtSecret: 'call-telemetry-test-secret-0123456789-abcdef',
    retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1 },
  });
  managers.push(m);
  return m;
}

/** A hook recording what the manager asks of it; `inScope` tells whether code runs in `run`. */
function recordingHook() {
  const ended: Array<{ service: string; error: ServiceError | undefined; attempts: number }> = [];
  let depth = 0;
  const hook: CallTelemetry = {
    startCall(service): CallScope {
      return {
        run<T>(fn: () => T): T {
          depth++;
          try {
            return fn();
          } finally {
            depth--;
          }
        },
        end: (error, attempts) => void ended.push({ service, error, attempts }),
      };
    },
  };
  return { hook, ended, inScope: () => depth > 0 };
}

describe('useCallTelemetry', () => {
  it('runs each call inside the hook scope and ends it with the attempts on success', async () => {
    const comm = manager();
    const { hook, ended, inScope } = recordingHook();
    comm.useCallTelemetry(hook);
    let sawScope = false;
    await expect(
      comm.executeServiceCall('asr', () => {
        sawScope = inScope();
        return 42;
      }),
    ).resolves.toBe(42);
    expect(sawScope).toBe(true);
    expect(ended).toEqual([{ service: 'asr', error: undefined, attempts: 1 }]);
  });

  it('ends the scope once with the final error after every attempt', async () => {
    const comm = manager();
    const { hook, ended } = recordingHook();
    comm.useCallTelemetry(hook);
    const down = () => {
      throw new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'down', 'asr');
    };
    await expect(comm.executeServiceCall('asr', down, { idempotent: true })).rejects.toMatchObject({
      code: ServiceErrorCode.SERVICE_UNAVAILABLE,
    });
    expect(ended).toHaveLength(1);
    expect(ended[0]!.attempts).toBe(3);
    expect(ended[0]!.error?.code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
  });

  it('stops asking the hook once removed', async () => {
    const comm = manager();
    const { hook, ended } = recordingHook();
    const remove = comm.useCallTelemetry(hook);
    remove();
    await comm.executeServiceCall('asr', () => 1);
    expect(ended).toEqual([]);
  });

  it('refuses a hook without startCall, naming it', () => {
    const comm = manager();
    expect(() => comm.useCallTelemetry({} as CallTelemetry)).toThrow(
      expect.objectContaining({ code: ServiceErrorCode.BAD_REQUEST, metadata: { field: 'hook' } }),
    );
  });
});
