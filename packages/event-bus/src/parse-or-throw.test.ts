import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseOrThrow } from './parse-or-throw';

describe('parseOrThrow', () => {
  const schema = z.strictObject({ n: z.number().default(1), name: z.string() });

  it('returns the parsed value, defaults applied', () => {
    expect(parseOrThrow(schema, { name: 'a' }, 'ctx')).toEqual({ n: 1, name: 'a' });
  });

  it('throws BAD_REQUEST naming the field and the context on a failure', () => {
    let caught: unknown;
    try {
      parseOrThrow(schema, { name: 2 }, 'publish');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ServiceError);
    expect((caught as ServiceError).code).toBe(ServiceErrorCode.BAD_REQUEST);
    expect((caught as ServiceError).message).toMatch(/^publish: /);
    expect((caught as ServiceError).metadata).toMatchObject({ field: 'name' });
  });
});
