import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ServiceErrorCode } from './error-code';
import { ServiceError } from './service-error';
import { parseOptions } from './validation';

describe('parseOptions', () => {
  const schema = z.strictObject({ n: z.number().default(1), name: z.string() });

  it('returns the parsed value, defaults applied', () => {
    expect(parseOptions(schema, { name: 'a' }, 'ctx')).toEqual({ n: 1, name: 'a' });
  });

  it('throws BAD_REQUEST naming the field and the context on a failure', () => {
    let caught: unknown;
    try {
      parseOptions(schema, { name: 2 }, 'publish');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ServiceError);
    expect((caught as ServiceError).code).toBe(ServiceErrorCode.BAD_REQUEST);
    expect((caught as ServiceError).message).toMatch(/^publish: /);
    expect((caught as ServiceError).metadata).toMatchObject({ field: 'name' });
  });
});
