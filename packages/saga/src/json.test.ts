import { isServiceError, ServiceErrorCode } from '@clone/service-errors';
import { describe, expect, it } from 'vitest';
import { assertJson, deepFreeze, jsonProblem } from './json';

describe('jsonProblem', () => {
  it('accepts what round-trips through JSON, including absent optional fields', () => {
    expect(jsonProblem({ a: [1, 'x', true, null, { b: 2.5 }], c: undefined })).toBeUndefined();
  });

  it('names the path and the reason of what would not round-trip', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(jsonProblem({ at: new Date(0) })).toBe(
      '$.at is a Date, not a plain object; store date.toISOString()',
    );
    expect(jsonProblem({ list: [1, undefined] })).toBe('$.list[1] is undefined');
    expect(jsonProblem({ n: Number.NaN })).toBe('$.n is NaN, which JSON cannot represent');
    expect(jsonProblem({ m: new Map() })).toBe('$.m is a Map, not a plain object');
    expect(jsonProblem({ f: () => 1 })).toBe('$.f is a function');
    expect(jsonProblem({ s: 'a\u0000b' })).toBe('$.s contains a NUL character');
    expect(jsonProblem(cyclic)).toBe('$.self is a circular reference');
    // The same object twice is not a cycle.
    const shared = { x: 1 };
    expect(jsonProblem({ a: shared, b: shared })).toBeUndefined();
  });

  it('assertJson throws BAD_REQUEST naming what was being stored', () => {
    try {
      assertJson({ big: 1n }, 'the result of step x');
      expect.unreachable();
    } catch (error) {
      expect(isServiceError(error, ServiceErrorCode.BAD_REQUEST)).toBe(true);
      expect((error as Error).message).toBe(
        'the result of step x cannot be stored as JSON: $.big is a bigint; store it as a string',
      );
    }
  });

  it('deepFreeze freezes nested values', () => {
    const value = deepFreeze({ a: { b: [1] } });
    expect(Object.isFrozen(value.a.b)).toBe(true);
  });
  it('never throws, even for values whose getters or proxy traps throw', () => {
    const getter = {
      get total(): number {
        throw new Error('getter');
      },
    };
    const trap = (): never => {
      throw new Error('trap');
    };
    const proxy = new Proxy({}, { get: trap, getPrototypeOf: trap, ownKeys: trap });
    expect(jsonProblem({ order: getter })).toBe('$ could not be read: a getter or proxy trap threw');
    expect(jsonProblem(proxy)).toBe('$ could not be read: a getter or proxy trap threw');
  });
});
