import { isServiceError, type ServiceError, ServiceErrorCode } from '@clone/service-errors';
import jwt from 'jsonwebtoken';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ServiceAuthEvents } from './events';
import { ServiceAuthManager } from './service-auth-manager';

const SECRET = 'issuer-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const YEAR = 365 * 86_400;

function badRequest(fn: () => unknown): ServiceError {
  try {
    fn();
  } catch (error) {
    expect(isServiceError(error, ServiceErrorCode.BAD_REQUEST)).toBe(true);
    return error as ServiceError;
  }
  throw new Error('expected BAD_REQUEST');
}

const request = { serviceId: 'ws-1', serviceName: 'ws', permissions: ['asr:read'] };

beforeEach(() => {
  vi.useFakeTimers({ now: T0, toFake: ['Date', 'setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('issuing within the maximum lifetime', () => {
  it('refuses to issue a token 100 years long, naming expiresInSeconds', () => {
    const m = new ServiceAuthManager({ jwtSecret: SECRET });
    const error = badRequest(() =>
      m.generateServiceToken('ws-1', 'ws', [], { expiresInSeconds: 100 * YEAR }),
    );
    expect(error.metadata?.field).toBe('expiresInSeconds');
    const day = badRequest(() => m.generateServiceToken('ws-1', 'ws', [], { expiresInSeconds: 86_401 }));
    expect(day.metadata?.field).toBe('expiresInSeconds');
    expect(day.message).toMatch(/maxTokenLifetimeSeconds \(86400\)/);
    const ok = jwt.decode(m.generateServiceToken('ws-1', 'ws', [], { expiresInSeconds: 86_400 })) as {
      iat: number;
      exp: number;
    };
    expect(ok.exp - ok.iat).toBe(86_400);
  });

  it('refuses a token provider beyond the maximum', () => {
    const m = new ServiceAuthManager({ jwtSecret: SECRET, maxTokenLifetimeSeconds: 600 });
    const error = badRequest(() =>
      m.createTokenProvider({ ...request, expiresInSeconds: 601 } as Parameters<
        typeof m.createTokenProvider
      >[0]),
    );
    expect(error.metadata?.field).toBe('expiresInSeconds');
  });

  it('refuses a tokenExpirySeconds above maxTokenLifetimeSeconds at construction', () => {
    const error = badRequest(() => new ServiceAuthManager({ jwtSecret: SECRET, tokenExpirySeconds: 90_000 }));
    expect(error.metadata?.field).toBe('tokenExpirySeconds');
    expect(
      new ServiceAuthManager({
        jwtSecret: SECRET,
        tokenExpirySeconds: 90_000,
        maxTokenLifetimeSeconds: 90_000,
      }).canSign,
    ).toBe(true);
  });

  it.each([
    ['tokenExpirySeconds', 2 ** 31],
    ['maxTokenLifetimeSeconds', 100 * YEAR],
    ['maxTokenLifetimeSeconds', 0],
    ['clockToleranceSeconds', 1e12],
    ['clockToleranceSeconds', 1.5],
  ])('bounds %s = %s so its milliseconds fit a timer', (field, value) => {
    const error = badRequest(() => new ServiceAuthManager({ jwtSecret: SECRET, [field]: value }));
    expect(error.metadata?.field).toBe(field);
    expect(error.message).toMatch(/2147483/);
  });
});

describe('inputs', () => {
  it('refuses a __proto__ key in a token request instead of inheriting permissions from it', () => {
    const m = new ServiceAuthManager({ jwtSecret: SECRET });
    const smuggled = JSON.parse('{"serviceId":"ws-1","serviceName":"ws","__proto__":{"permissions":["*"]}}');
    const error = badRequest(() => m.createTokenProvider(smuggled));
    expect(error.message).toMatch(/__proto__/);
    const options = JSON.parse('{"__proto__":{"audience":"admin"}}');
    expect(badRequest(() => m.generateServiceToken('ws-1', 'ws', [], options)).message).toMatch(/__proto__/);
    // Options cannot override the caller either.
    const override = { serviceId: 'admin' } as never;
    expect(badRequest(() => m.generateServiceToken('ws-1', 'ws', [], override)).message).toMatch(/serviceId/);
  });
});

describe('token ids', () => {
  it('takes jti from tokenIdSource', () => {
    let n = 0;
    const m = new ServiceAuthManager({ jwtSecret: SECRET, tokenIdSource: () => `id-${++n}` });
    expect((jwt.decode(m.generateServiceToken('ws-1', 'ws', [])) as { jti: string }).jti).toBe('id-1');
    expect(m.verifyServiceToken(m.createTokenProvider(request).get()).jti).toBe('id-2');
  });

  it('a throwing or empty tokenIdSource becomes a ServiceError with cause, never a raw throw', () => {
    const boom = new Error('no entropy');
    const throwing = new ServiceAuthManager({
      jwtSecret: SECRET,
      tokenIdSource: () => {
        throw boom;
      },
    });
    for (const fn of [
      () => throwing.generateServiceToken('ws-1', 'ws', []),
      () => throwing.createTokenProvider(request).get(),
    ]) {
      try {
        fn();
        expect.unreachable();
      } catch (error) {
        expect(isServiceError(error, ServiceErrorCode.INTERNAL_ERROR)).toBe(true);
        expect((error as ServiceError).cause).toBe(boom);
      }
    }
    const empty = new ServiceAuthManager({ jwtSecret: SECRET, tokenIdSource: () => '' });
    expect(() => empty.generateServiceToken('ws-1', 'ws', [])).toThrow(/tokenIdSource/);
  });
});

describe('generateServiceToken', () => {
  it('issues a standard JWT any library verifies with the shared secret', () => {
    const auth = new ServiceAuthManager({
      jwtSecret: SECRET,
      tokenExpirySeconds: 3600,
      issuer: 'clone-mesh',
    });
    const token = auth.generateServiceToken('ws-1', 'websocket-server', ['asr:read', 'llm:read'], {
      audience: 'asr',
    });
    const decoded = jwt.verify(token, SECRET, { algorithms: ['HS256'], complete: true });
    expect(decoded.header).toEqual({ alg: 'HS256', typ: 'JWT' });
    const payload = decoded.payload as Record<string, unknown>;
    expect(payload).toMatchObject({
      sub: 'ws-1',
      serviceId: 'ws-1',
      serviceName: 'websocket-server',
      permissions: ['asr:read', 'llm:read'],
      iat: T0 / 1000,
      exp: T0 / 1000 + 3600,
      iss: 'clone-mesh',
      aud: 'asr',
    });
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives every token its own jti', () => {
    const auth = new ServiceAuthManager({ jwtSecret: SECRET });
    const a = jwt.decode(auth.generateServiceToken('ws-1', 'ws', [])) as { jti: string };
    const b = jwt.decode(auth.generateServiceToken('ws-1', 'ws', [])) as { jti: string };
    expect(a.jti).not.toBe(b.jti);
  });

  it('checks its arguments', () => {
    const auth = new ServiceAuthManager({ jwtSecret: SECRET });
    expect(() => auth.generateServiceToken('', 'ws', [])).toThrow(/serviceId/);
    expect(() => auth.generateServiceToken('ws-1', 'ws', 'asr:read' as never)).toThrow(/permissions/);
    expect(() => auth.generateServiceToken('ws-1', 'ws', [1] as never)).toThrow(/permissions\.0/);
  });

  it('emits tokenIssued without the token', () => {
    const auth = new ServiceAuthManager({ jwtSecret: SECRET, tokenExpirySeconds: 60 });
    const events: ServiceAuthEvents['tokenIssued'][] = [];
    auth.on('tokenIssued', (e) => events.push(e));
    const token = auth.generateServiceToken('ws-1', 'ws', ['asr:read'], { audience: 'asr' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      serviceId: 'ws-1',
      serviceName: 'ws',
      audience: 'asr',
      kid: undefined,
    });
    expect(events[0]!.expiresAt.getTime()).toBe(T0 + 60_000);
    expect(JSON.stringify(events[0])).not.toContain(token.split('.')[2]);
  });
});

describe('client token cache', () => {
  it('caches per (audience, permissions) and re-signs with 20% of the lifetime left', () => {
    const m = new ServiceAuthManager({ jwtSecret: SECRET, tokenExpirySeconds: 100 });
    let issued = 0;
    m.on('tokenIssued', () => issued++);
    const a = m.getServiceToken('ws-1', 'ws', ['asr:read', 'llm:read'], { audience: 'asr' });
    expect(m.getServiceToken('ws-1', 'ws', ['llm:read', 'asr:read'], { audience: 'asr' })).toBe(a);
    expect(m.getServiceToken('ws-1', 'ws', ['asr:read', 'llm:read'], { audience: 'llm' })).not.toBe(a);
    expect(m.getServiceToken('ws-1', 'ws', ['asr:read'], { audience: 'asr' })).not.toBe(a);
    expect(issued).toBe(3);
    vi.advanceTimersByTime(79_999);
    expect(m.getServiceToken('ws-1', 'ws', ['asr:read', 'llm:read'], { audience: 'asr' })).toBe(a);
    vi.advanceTimersByTime(1);
    const b = m.getServiceToken('ws-1', 'ws', ['asr:read', 'llm:read'], { audience: 'asr' });
    expect(b).not.toBe(a);
    expect(m.verifyServiceToken(b).exp).toBe(T0 / 1000 + 180);
  });

  it('a token provider signs once per refresh period and can be invalidated', () => {
    const m = new ServiceAuthManager({
      jwtSecret: SECRET,
      tokenExpirySeconds: 100,
      refreshBeforeExpiryRatio: 0.5,
    });
    const provider = m.createTokenProvider({
      serviceId: 'ws-1',
      serviceName: 'ws',
      permissions: ['asr:read'],
    });
    const a = provider.get();
    vi.advanceTimersByTime(49_000);
    expect(provider.get()).toBe(a);
    vi.advanceTimersByTime(1_000);
    const b = provider.get();
    expect(b).not.toBe(a);
    provider.invalidate();
    vi.advanceTimersByTime(1_000);
    expect(provider.get()).not.toBe(b);
  });
});
