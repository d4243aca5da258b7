import * as grpc from '@grpc/grpc-js';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceAuthEvents } from './events';
import { getServiceIdentity } from './server-interceptor';
import { ServiceAuthManager } from './service-auth-manager';
import {
  type AsrClient,
  bearer,
  call,
  client,
  type HealthClient,
  HealthService,
  methodPermissions,
  type Reply,
  startServer,
} from './test-grpc-server';
import { claims } from './test-helpers';

const SECRET = 'grpc-test-secret-0123456789-abcdefghijklmnop';
const OTHER_SECRET = 'grpc-other-secret-0123456789-abcdefghijklmnop';

describe('gRPC interceptors (real grpc-js server on 127.0.0.1)', () => {
  let now = Date.now();
  const clock = { now: () => now, setTimeout, clearTimeout };
  const serverAuth = new ServiceAuthManager({
    jwtSecret: SECRET,
    audience: 'asr',
    clock,
    clockToleranceSeconds: 5,
  });
  const clientAuth = new ServiceAuthManager({ jwtSecret: SECRET, clock });
  const failures: ServiceAuthEvents['authFailure'][] = [];
  serverAuth.on('authFailure', (e) => failures.push(e));
  let server: Awaited<ReturnType<typeof startServer>>;
  let bare: AsrClient;

  beforeAll(async () => {
    server = await startServer(serverAuth, { methodPermissions });
    bare = client(server.port);
  });
  afterAll(async () => {
    bare.close();
    await server.close();
  });

  it('authenticates a call from the client interceptor and exposes the identity to the handler', async () => {
    const c = client(server.port, [
      clientAuth.createClientInterceptor({
        serviceId: 'ws-1',
        serviceName: 'websocket-server',
        permissions: ['asr:read'],
        audience: 'asr',
      }),
    ]);
    const { error, reply: r } = await call(c, 'Transcribe');
    c.close();
    expect(error).toBeNull();
    expect(JSON.parse(r!.identity)).toMatchObject({
      serviceId: 'ws-1',
      serviceName: 'websocket-server',
      permissions: ['asr:read'],
    });
    // The credential is not handed on to the handler.
    expect(r!.authorization).toBe('');
  });

  it('keeps the authorization header for the handler when asked', async () => {
    const keep = await startServer(serverAuth, { methodPermissions, keepAuthorizationHeader: true });
    const token = clientAuth.generateServiceToken('ws-1', 'websocket-server', ['asr:read'], {
      audience: 'asr',
    });
    const c = client(keep.port);
    const { reply: r } = await call(c, 'Transcribe', bearer(token));
    c.close();
    await keep.close();
    expect(r!.authorization).toBe(`Bearer ${token}`);
  });

  it('works for server-streaming methods', async () => {
    const c = client(server.port, [
      clientAuth.createClientInterceptor({
        serviceId: 'ws-1',
        serviceName: 'ws',
        permissions: ['asr:*'],
        audience: 'asr',
      }),
    ]);
    const replies: Reply[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = c.Stream({ text: 'x' }, new grpc.Metadata());
      stream.on('data', (r: Reply) => replies.push(r));
      stream.on('error', reject);
      stream.on('end', resolve);
    });
    c.close();
    expect(JSON.parse(replies[0]!.identity).serviceName).toBe('ws');
  });

  it('reuses one cached token across calls', async () => {
    let issued = 0;
    const off = clientAuth.on('tokenIssued', () => issued++);
    const c = client(server.port, [
      clientAuth.createClientInterceptor({
        serviceId: 'ws-2',
        serviceName: 'ws',
        permissions: ['asr:read'],
        audience: 'asr',
      }),
    ]);
    for (let i = 0; i < 5; i++) expect((await call(c, 'Transcribe')).error).toBeNull();
    c.close();
    off();
    expect(issued).toBe(1);
  });

  async function expectRefused(md: grpc.Metadata, code: grpc.status, reason: string, details: RegExp) {
    failures.length = 0;
    const { error } = await call(bare, 'Transcribe', md);
    expect(error?.code).toBe(code);
    expect(error?.details).toMatch(details);
    expect(failures.at(-1)).toMatchObject({ reason, method: '/asr.ASRService/Transcribe' });
    return error!;
  }

  it('missing authorization metadata: UNAUTHENTICATED, missing_token', async () => {
    await expectRefused(
      new grpc.Metadata(),
      grpc.status.UNAUTHENTICATED,
      'missing_token',
      /no 'authorization' metadata/,
    );
  });

  it.each([
    ['a non-Bearer scheme', 'Basic dXNlcjpwYXNz', 'malformed', /not 'Bearer <jwt>'/],
    ['a bare token without scheme', 'eyJhbGciOiJIUzI1NiJ9.e30.x', 'malformed', /not 'Bearer <jwt>'/],
    ['Bearer with garbage', 'Bearer garbage', 'malformed', /\(malformed\)/],
    ['Bearer with nothing', 'Bearer ', 'missing_token', /\(missing_token\)/],
  ])('malformed header (%s): UNAUTHENTICATED, %s', async (_, value, reason, details) => {
    const md = new grpc.Metadata();
    md.set('authorization', value);
    const error = await expectRefused(md, grpc.status.UNAUTHENTICATED, reason, details);
    if (value.length > 7) expect(error.details).not.toContain(value.slice(7));
  });

  it('a forged payload signed with a wrong secret: UNAUTHENTICATED, bad_signature', async () => {
    const forged = jwt.sign(claims({ permissions: ['*'], aud: 'asr' }), OTHER_SECRET, { algorithm: 'HS256' });
    const error = await expectRefused(
      bearer(forged),
      grpc.status.UNAUTHENTICATED,
      'bad_signature',
      /bad_signature/,
    );
    expect(error.details).not.toContain(forged.split('.')[2]);
    expect(failures.at(-1)?.serviceName).toBe('websocket-server');
  });

  it('tampered permissions: UNAUTHENTICATED, bad_signature', async () => {
    const [h, p, s] = clientAuth
      .generateServiceToken('ws-1', 'ws', ['asr:read'], { audience: 'asr' })
      .split('.');
    const body = { ...JSON.parse(Buffer.from(p!, 'base64url').toString()), permissions: ['*'] };
    const tampered = `${h}.${Buffer.from(JSON.stringify(body)).toString('base64url')}.${s}`;
    await expectRefused(bearer(tampered), grpc.status.UNAUTHENTICATED, 'bad_signature', /bad_signature/);
  });

  it("alg 'none': UNAUTHENTICATED, bad_algorithm", async () => {
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const unsigned = `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims({ aud: 'asr', permissions: ['*'] }))}.`;
    await expectRefused(
      bearer(unsigned),
      grpc.status.UNAUTHENTICATED,
      'bad_algorithm',
      /'none' is not accepted/,
    );
  });

  it('wrong audience: UNAUTHENTICATED, wrong_audience', async () => {
    const token = clientAuth.generateServiceToken('ws-1', 'ws', ['asr:read'], { audience: 'tts' });
    await expectRefused(bearer(token), grpc.status.UNAUTHENTICATED, 'wrong_audience', /audience/);
  });

  it('wrong issuer: UNAUTHENTICATED, wrong_issuer', async () => {
    const strict = new ServiceAuthManager({ jwtSecret: SECRET, issuer: 'clone-mesh' });
    const s = await startServer(strict, { methodPermissions });
    const c = client(s.port);
    const token = jwt.sign(claims({ iss: 'elsewhere' }), SECRET, { algorithm: 'HS256' });
    const { error } = await call(c, 'Transcribe', bearer(token));
    c.close();
    await s.close();
    expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(error?.details).toMatch(/wrong_issuer/);
  });

  it('expired: UNAUTHENTICATED, expired; the client then signs a fresh token', async () => {
    const token = clientAuth.generateServiceToken('ws-1', 'ws', ['asr:read'], { audience: 'asr' });
    expect((await call(bare, 'Transcribe', bearer(token))).error).toBeNull(); // cached on the server
    now += 3_600_000 + 6_000;
    try {
      await expectRefused(bearer(token), grpc.status.UNAUTHENTICATED, 'expired', /expired/);
    } finally {
      now -= 3_600_000 + 6_000;
    }
  });

  it('missing permission: PERMISSION_DENIED naming the service, permission and method', async () => {
    const token = clientAuth.generateServiceToken('ws-1', 'websocket-server', ['asr:read'], {
      audience: 'asr',
    });
    failures.length = 0;
    const { error } = await call(bare, 'Configure', bearer(token));
    expect(error?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(error?.details).toBe(
      "Service 'websocket-server' lacks permission 'asr:admin' required by /asr.ASRService/Configure",
    );
    expect(failures).toEqual([
      expect.objectContaining({
        reason: 'missing_permission',
        serviceName: 'websocket-server',
        method: '/asr.ASRService/Configure',
      }),
    ]);
  });

  it.each([
    [['asr:*'], null],
    [['*'], null],
    [['*:admin', '*:write'], null],
    [['*:read'], grpc.status.PERMISSION_DENIED],
    [['asr:admin'], grpc.status.PERMISSION_DENIED],
  ])('wildcard grants %j on a method needing asr:admin + asr:write → %s', async (permissions, expected) => {
    const token = clientAuth.generateServiceToken('ws-1', 'ws', permissions, { audience: 'asr' });
    const { error } = await call(bare, 'Configure', bearer(token));
    expect(error?.code ?? null).toBe(expected);
  });

  it('has no identity outside an authenticated call', () => {
    expect(getServiceIdentity(undefined)).toBeUndefined();
    expect(getServiceIdentity(new grpc.Metadata())).toBeUndefined();
    expect(getServiceIdentity({ metadata: bearer('x') })).toBeUndefined();
  });

  it('lets health checks through without a token', async () => {
    const health = new HealthService(
      `127.0.0.1:${server.port}`,
      grpc.credentials.createInsecure(),
    ) as unknown as HealthClient;
    const res = await new Promise<{ status: number }>((resolve, reject) =>
      health.Check({ service: '' }, (e, r) => (e ? reject(e) : resolve(r!))),
    );
    health.close();
    expect(res.status).toBe(1);
  });

  it("unlistedMethods 'deny' refuses a method with no permissions configured", async () => {
    const s = await startServer(serverAuth, {
      methodPermissions: { '/asr.ASRService/Transcribe': [] },
      unlistedMethods: 'deny',
    });
    const c = client(s.port);
    const token = clientAuth.generateServiceToken('ws-1', 'ws', ['*'], { audience: 'asr' });
    const open = await call(c, 'Transcribe', bearer(token));
    const closed = await call(c, 'Configure', bearer(token));
    c.close();
    await s.close();
    expect(open.error).toBeNull();
    expect(closed.error?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(closed.error?.details).toMatch(/not open to service tokens/);
  });

  it('a service wildcard in methodPermissions covers every method of the service', async () => {
    const s = await startServer(serverAuth, { methodPermissions: { '/asr.ASRService/*': ['asr:write'] } });
    const c = client(s.port);
    const reader = await call(
      c,
      'Transcribe',
      bearer(clientAuth.generateServiceToken('r', 'r', ['asr:read'], { audience: 'asr' })),
    );
    const writer = await call(
      c,
      'Configure',
      bearer(clientAuth.generateServiceToken('w', 'w', ['asr:write'], { audience: 'asr' })),
    );
    c.close();
    await s.close();
    expect(reader.error?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(writer.error).toBeNull();
  });

  it('refuses bad interceptor options', () => {
    expect(() => serverAuth.createServerInterceptor({ methodPermissions: { Transcribe: ['x'] } })).toThrow(
      /full method path/,
    );
    expect(() =>
      serverAuth.createServerInterceptor({
        methodPermissions: { '/grpc.health.v1.Health/Check': ['x'] },
      }),
    ).toThrow(/both in publicMethods and in methodPermissions/);
    expect(() =>
      clientAuth.createClientInterceptor({ serviceId: '', serviceName: 'x', permissions: [] }),
    ).toThrow(/serviceId/);
  });
});

describe('key rotation across services', () => {
  const key = (kid: string) => ({ kid, secret: `${kid}-rotation-secret-0123456789-abcdef` });

  it('accepts tokens from keys still in the set and refuses those from a removed key', async () => {
    const serverAuth = new ServiceAuthManager({ keys: [key('k1'), key('k2')] });
    const clientAuth = new ServiceAuthManager({ keys: [key('k1'), key('k2')], activeKid: 'k1' });
    const s = await startServer(serverAuth, { methodPermissions });
    const interceptor = clientAuth.createClientInterceptor({
      serviceId: 'ws-1',
      serviceName: 'ws',
      permissions: ['asr:read'],
    });
    const c = client(s.port, [interceptor]);
    const plain = client(s.port);
    const oldToken = clientAuth.generateServiceToken('ws-1', 'ws', ['asr:read']);
    try {
      expect((await call(c, 'Transcribe')).error).toBeNull(); // k1, cached on the server
      clientAuth.setActiveKey('k2');
      const after = await call(c, 'Transcribe');
      expect(after.error).toBeNull();
      expect(JSON.parse(after.reply!.identity).kid).toBe('k2');
      expect((await call(plain, 'Transcribe', bearer(oldToken))).error).toBeNull(); // k1 still listed
      serverAuth.setActiveKey('k2');
      serverAuth.removeKey('k1');
      const refused = await call(plain, 'Transcribe', bearer(oldToken));
      expect(refused.error?.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(refused.error?.details).toMatch(/unknown_kid.*'k1'/);
      expect((await call(c, 'Transcribe')).error).toBeNull(); // k2 tokens still pass
    } finally {
      c.close();
      plain.close();
      await s.close();
    }
  });

  it('a client whose token is refused signs a new one for the next call', async () => {
    const serverAuth = new ServiceAuthManager({ keys: [key('k1'), key('k2')] });
    const clientAuth = new ServiceAuthManager({ keys: [key('k1'), key('k2')], activeKid: 'k1' });
    const s = await startServer(serverAuth, { methodPermissions });
    let issued = 0;
    clientAuth.on('tokenIssued', () => issued++);
    const c = client(s.port, [
      clientAuth.createClientInterceptor({ serviceId: 'ws-1', serviceName: 'ws', permissions: ['asr:read'] }),
    ]);
    try {
      expect((await call(c, 'Transcribe')).error).toBeNull();
      // The server drops k1 before the client moves on (a rotation done in the wrong order).
      serverAuth.setActiveKey('k2');
      serverAuth.removeKey('k1');
      const refused = await call(c, 'Transcribe');
      expect(refused.error?.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(issued).toBe(1);
      clientAuth.setActiveKey('k2');
      expect((await call(c, 'Transcribe')).error).toBeNull();
      expect(issued).toBe(2);
    } finally {
      c.close();
      await s.close();
    }
  });
});
