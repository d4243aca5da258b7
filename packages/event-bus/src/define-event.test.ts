import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEvent, parseEventData } from './define-event';
import { EventBuilder } from './event-builder';

describe('defineEvent and EventBuilder', () => {
  it('builds the envelope of the design document', () => {
    const clock = { now: () => Date.UTC(2026, 0, 2, 3, 4, 5), setTimeout: () => 0, clearTimeout: () => {} };
    const builder = new EventBuilder({ clock, newId: () => 'id-1' });
    expect(builder.create('user.created', { data: { userId: '123' } }, 'auth-service')).toEqual({
      id: 'id-1',
      type: 'user.created',
      source: 'auth-service',
      timestamp: '2026-01-02T03:04:05.000Z',
      correlationId: 'id-1',
      version: 1,
      data: { userId: '123' },
    });
    const withAll = builder.create(
      'a.b',
      { data: 1, correlationId: 'c', metadata: { tenant: 't' }, version: 2 },
      's',
    );
    expect(withAll).toMatchObject({ correlationId: 'c', metadata: { tenant: 't' }, version: 2 });
  });

  it('stamps its version and validates data naming the field', () => {
    const Created = defineEvent('sample.created', z.object({ sampleId: z.string() }), { version: 3 });
    expect(Created.create({ sampleId: 'x' }, 'svc')).toMatchObject({ type: 'sample.created', version: 3 });
    expect(() => parseEventData(Created, { sampleId: 1 }, 'publish')).toThrow(
      expect.objectContaining({
        code: 'BAD_REQUEST',
        metadata: expect.objectContaining({ field: 'data.sampleId' }),
      }),
    );
  });

  it('refuses a bad type or a schema that is not zod', () => {
    expect(() => defineEvent('sample created', z.object({}))).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST', metadata: expect.objectContaining({ field: 'type' }) }),
    );
    expect(() => defineEvent('sample.*', z.object({}))).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST' }),
    );
    expect(() => defineEvent('a', {} as never)).toThrow(
      expect.objectContaining({ metadata: { field: 'schema' } }),
    );
  });
});
