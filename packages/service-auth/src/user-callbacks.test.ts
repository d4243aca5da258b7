import { ServiceErrorCode } from '@clone/service-errors';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { ServiceAuthManager } from './service-auth-manager';
import { claims, reasonOf, rejection } from './test-helpers';

const SECRET = 'callback-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const sign = (c: Record<string, unknown>) => jwt.sign(JSON.stringify(c), SECRET, { algorithm: 'HS256' });

describe('user callbacks that throw', () => {
  it('a throwing clock becomes a ServiceError with the original as cause', () => {
    const boom = new Error('clock broke');
    const m = new ServiceAuthManager({
      jwtSecret: SECRET,
      clock: {
        now: () => {
          throw boom;
        },
        setTimeout,
        clearTimeout,
      },
    });
    const error = rejection(() => m.verifyServiceToken(sign(claims())));
    expect(error.code).toBe(ServiceErrorCode.INTERNAL_ERROR);
    expect(error.cause).toBe(boom);
    expect(rejection(() => m.generateServiceToken('ws-1', 'ws', [])).cause).toBe(boom);
  });

  it('a clock returning nonsense is refused the same way', () => {
    const m = new ServiceAuthManager({
      jwtSecret: SECRET,
      clock: { now: () => Number.NaN, setTimeout, clearTimeout },
    });
    expect(rejection(() => m.verifyServiceToken(sign(claims()))).code).toBe(ServiceErrorCode.INTERNAL_ERROR);
  });

  it('a throwing logger does not change the outcome of a refusal', () => {
    const throwing = () => {
      throw new Error('logger broke');
    };
    const m = new ServiceAuthManager({
      jwtSecret: SECRET,
      logger: { debug: throwing, info: throwing, warn: throwing, error: throwing },
    });
    const forged = jwt.sign(claims(), `${SECRET}-other`, { algorithm: 'HS256' });
    expect(reasonOf(() => m.verifyServiceToken(forged))).toBe('bad_signature');
    expect(rejection(() => m.requirePermissions(m.verifyServiceToken(sign(claims())), ['x:y'])).code).toBe(
      ServiceErrorCode.FORBIDDEN,
    );
  });
});
