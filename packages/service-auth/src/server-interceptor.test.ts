import * as grpc from '@grpc/grpc-js';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceAuthEvents } from './events';
import { ServiceAuthManager } from './service-auth-manager';
import { type AsrClient, bearer, call, client, methodPermissions, startServer } from './test-grpc-server';
import { claims } from './test-helpers';

const SECRET = 'server-test-secret-0123456789-abcdefghijklmnop';

describe('server interceptor: required audience', () => {
  // The manager itself has no audience: the interceptor alone binds tokens to this callee.
  const serverAuth = new ServiceAuthManager({ jwtSecret: SECRET });
  const clientAuth = new ServiceAuthManager({ jwtSecret: SECRET });
  let s: Awaited<ReturnType<typeof startServer>>;
  let c: AsrClient;
  const failures: ServiceAuthEvents['authFailure'][] = [];
  serverAuth.on('authFailure', (e) => failures.push(e));

  beforeAll(async () => {
    s = await startServer(serverAuth, { methodPermissions, audience: 'asr' });
    c = client(s.port);
  });
  afterAll(async () => {
    c.close();
    await s.close();
  });

  it('accepts a token for its own name', async () => {
    const token = clientAuth.generateServiceToken('ws-1', 'ws', ['asr:read'], { audience: 'asr' });
    expect((await call(c, 'Transcribe', bearer(token))).error).toBeNull();
  });

  it.each([
    ['another callee', { audience: 'tts' }],
    ['no audience', {}],
  ])('refuses a token for %s with UNAUTHENTICATED, wrong_audience, even once cached', async (_, options) => {
    const token = clientAuth.generateServiceToken('ws-1', 'ws', ['asr:read'], options);
    serverAuth.verifyServiceToken(token); // valid for the manager, and now in its cache
    failures.length = 0;
    const { error } = await call(c, 'Transcribe', bearer(token));
    expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(error?.details).toMatch(/wrong_audience.*"asr"/);
    expect(failures.at(-1)).toMatchObject({ reason: 'wrong_audience', method: '/asr.ASRService/Transcribe' });
  });

  it('refuses an audience smuggled in through a __proto__ claim', async () => {
    const body = JSON.stringify(claims()).replace(/^\{/, '{"__proto__":{"aud":"asr"},');
    const token = jwt.sign(body, SECRET, { algorithm: 'HS256' });
    const { error } = await call(c, 'Transcribe', bearer(token));
    expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('a client interceptor per callee binds its token to that callee', async () => {
    const bound = client(s.port, [
      clientAuth.createClientInterceptor({
        serviceId: 'ws-1',
        serviceName: 'ws',
        permissions: ['asr:read'],
        audience: 'asr',
      }),
    ]);
    const other = client(s.port, [
      clientAuth.createClientInterceptor({
        serviceId: 'ws-1',
        serviceName: 'ws',
        permissions: ['asr:read'],
        audience: 'tts',
      }),
    ]);
    try {
      expect((await call(bound, 'Transcribe')).error).toBeNull();
      expect((await call(other, 'Transcribe')).error?.code).toBe(grpc.status.UNAUTHENTICATED);
    } finally {
      bound.close();
      other.close();
    }
  });

  it('refuses a bad audience option', () => {
    expect(() => serverAuth.createServerInterceptor({ audience: '' })).toThrow(/audience/);
  });
});

describe('interceptor inputs and user callbacks', () => {
  it('refuses a __proto__ key in methodPermissions instead of dropping it', () => {
    const auth = new ServiceAuthManager({ jwtSecret: SECRET });
    const methodPermissions = JSON.parse(
      '{"__proto__":["asr:admin"],"/asr.ASRService/Transcribe":["asr:read"]}',
    );
    expect(() => auth.createServerInterceptor({ methodPermissions })).toThrow(
      /methodPermissions key '__proto__'/,
    );
  });

  it('a server whose clock throws answers the call (INTERNAL), it never hangs or crashes', async () => {
    let broken = false;
    const clock = {
      now: () => {
        if (broken) throw new Error('clock broke');
        return Date.now();
      },
      setTimeout,
      clearTimeout,
    };
    const serverAuth = new ServiceAuthManager({ jwtSecret: SECRET, clock });
    const s = await startServer(serverAuth, { methodPermissions });
    const c = client(s.port);
    try {
      const token = serverAuth.generateServiceToken('ws-1', 'ws', ['asr:read']);
      broken = true;
      const { error } = await call(c, 'Transcribe', bearer(token));
      expect(error?.code).toBe(grpc.status.INTERNAL);
      expect(error?.details).toMatch(/clock\.now\(\) threw/);
    } finally {
      c.close();
      await s.close();
    }
  });

  it('a client whose clock and logger throw ends the call UNAUTHENTICATED, never a raw throw', async () => {
    const serverAuth = new ServiceAuthManager({ jwtSecret: SECRET });
    const s = await startServer(serverAuth, { methodPermissions });
    const throwing = () => {
      throw new Error('broken');
    };
    const clientAuth = new ServiceAuthManager({
      jwtSecret: SECRET,
      clock: { now: throwing, setTimeout, clearTimeout },
      logger: { debug: throwing, info: throwing, warn: throwing, error: throwing },
    });
    const c = client(s.port, [
      clientAuth.createClientInterceptor({ serviceId: 'ws-1', serviceName: 'ws', permissions: ['asr:read'] }),
    ]);
    try {
      const { error } = await call(c, 'Transcribe');
      expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(error?.details).toMatch(/Could not sign a service token: .*clock\.now\(\) threw/);
    } finally {
      c.close();
      await s.close();
    }
  });
});
