import { getServiceIdentity } from '@clone/service-auth';
import { ServiceErrorCode } from '@clone/service-errors';
import * as grpc from '@grpc/grpc-js';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { CORRELATION_ID_HEADER, withCorrelationId } from './call-context';
import { testManager, useCleanups } from './test-support/fixtures';
import { startServer, TEST_SECRET } from './test-support/servers';

// What every call of the manager's clients carries: a signed token with the asked permissions
// (signed anew after a refusal), and the correlation id and deadline across hops.

const defer = useCleanups();
const manager = (extra: Parameters<typeof testManager>[1] = {}) =>
  testManager(defer, {
    serviceId: 'websocket-server-1',
    serviceName: 'websocket-server',
    tokenExpirySeconds: 3600,
    ...extra,
  });

async function server(options: Parameters<typeof startServer>[0]) {
  const s = await startServer(options);
  defer(() => s.stop());
  return s;
}

describe('ServiceCommunicationManager: tokens and call context', () => {
  it('sends a JWT that verifies with the shared secret and carries the asked permissions', async () => {
    let raw: unknown;
    let identity: ReturnType<typeof getServiceIdentity>;
    const open = await server({
      auth: false,
      services: {
        lipsync: {
          GenerateFrames: (call) => {
            raw = call.metadata.get('authorization')[0];
            call.write({ sequence: 0, isFinal: true });
            call.end();
          },
        },
      },
    });
    const guarded = await server({
      services: {
        lipsync: {
          GenerateFrames: (call) => {
            identity = getServiceIdentity(call);
            call.end();
          },
        },
      },
      requirePermissions: { lipsync: ['lipsync:read'] },
    });
    const m = manager();
    const frames: unknown[] = [];
    const stream = m.createLipSyncClient(open.address, ['lipsync:read', 'lipsync:write']).GenerateFrames({});
    await new Promise((resolve, reject) => {
      stream.on('data', (f) => frames.push(f));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    expect(frames).toHaveLength(1);
    const payload = jwt.verify(String(raw).replace(/^Bearer /, ''), TEST_SECRET) as Record<string, unknown>;
    expect(payload).toMatchObject({
      sub: 'websocket-server-1',
      serviceName: 'websocket-server',
      permissions: ['lipsync:read', 'lipsync:write'],
    });
    expect(() => jwt.verify(String(raw).replace(/^Bearer /, ''), `${TEST_SECRET}-other`)).toThrow();

    const ok = m.createLipSyncClient(guarded.address, ['lipsync:read']).GenerateFrames({});
    await new Promise((resolve, reject) => ok.on('end', resolve).on('error', reject).resume());
    expect(identity?.serviceName).toBe('websocket-server');
    expect(identity?.permissions).toEqual(['lipsync:read']);
    const denied = m.createLipSyncClient(guarded.address, ['tts:read']).GenerateFrames({});
    const error = await new Promise<grpc.ServiceError>((resolve) => denied.on('error', resolve).resume());
    expect(error.code).toBe(grpc.status.PERMISSION_DENIED);
    // A manager with another secret is refused: the server really checks the signature.
    const stranger = manager({ jwtSecret: `${TEST_SECRET}-other` });
    const refused = stranger.createLipSyncClient(guarded.address, ['lipsync:read']).GenerateFrames({});
    const unauthenticated = await new Promise<grpc.ServiceError>((resolve) =>
      refused.on('error', resolve).resume(),
    );
    expect(unauthenticated.code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('signs a fresh token after the server answered UNAUTHENTICATED', async () => {
    const tokens: string[] = [];
    const s = await server({
      auth: false,
      services: {
        tts: {
          ListVoices: (call, callback) => {
            tokens.push(call.metadata.get('authorization')[0] as string);
            if (tokens.length === 1) callback({ code: grpc.status.UNAUTHENTICATED, details: 'key rotated' });
            else callback(null, { voices: [] });
          },
          Synthesize: (call) => call.end(),
          ReleaseAudio: (_c, cb) => cb(null, {}),
        },
      },
    });
    const m = manager();
    const tts = m.createTTSClient(s.address, ['tts:read']);
    await expect(tts.promises.ListVoices({})).rejects.toMatchObject({ code: ServiceErrorCode.UNAUTHORIZED });
    await tts.promises.ListVoices({});
    await tts.promises.ListVoices({});
    expect(tokens[1]).not.toBe(tokens[0]);
    expect(tokens[2]).toBe(tokens[1]);
  });

  it('carries the correlation id across two hops', async () => {
    const atC: string[] = [];
    const atB: string[] = [];
    const deadlineAtC: number[] = [];
    const c = await server({
      services: {
        rag: {
          Retrieve: (call, callback) => {
            atC.push(call.metadata.get(CORRELATION_ID_HEADER)[0] as string);
            const d = call.getDeadline();
            deadlineAtC.push(d instanceof Date ? d.getTime() : d);
            callback(null, { documents: [] });
          },
          Upsert: (_c, cb) => cb(null, {}),
          Ingest: (_c, cb) => cb(null, {}),
          Delete: (_c, cb) => cb(null, {}),
          ClearCache: (_c, cb) => cb(null, {}),
        },
      },
    });
    const mb = manager({ serviceId: 'llm-1', serviceName: 'llm' });
    const ragFromB = mb.createRAGClient(c.address, ['rag:read']);
    const b = await server({
      services: {
        llm: {
          Generate: async (call) => {
            atB.push(call.metadata.get(CORRELATION_ID_HEADER)[0] as string);
            // An await in between: the context must survive async hops inside the handler.
            await new Promise((resolve) => setImmediate(resolve));
            await mb.executeServiceCall('rag', () =>
              ragFromB.promises.Retrieve({ query: call.request.prompt }),
            );
            return { text: 'ok' };
          },
          StreamGenerate: (call) => call.end(),
        },
      },
    });
    const ma = manager();
    const llm = ma.createLLMClient(b.address, ['llm:read']);
    // A's call has a 20 s deadline; B's own default would be 30 s: C must see A's.
    const started = Date.now();
    await withCorrelationId('conversation-7', () =>
      ma.executeServiceCall('llm', () =>
        llm.promises.Generate({ prompt: 'hi' }, { deadline: Date.now() + 20_000 }),
      ),
    );
    await ma.executeServiceCall('llm', () => llm.promises.Generate({ prompt: 'again' }));
    expect(atB[0]).toBe('conversation-7');
    expect(atC[0]).toBe('conversation-7');
    expect(atB[1]).toMatch(/^[0-9a-f-]{36}$/);
    expect(atC[1]).toBe(atB[1]);
    expect(deadlineAtC[0]).toBeLessThanOrEqual(started + 20_000 + 1_000);
  });
});
