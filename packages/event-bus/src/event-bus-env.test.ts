import { describe, expect, it } from 'vitest';
import { eventBusOptionsFromEnv } from './event-bus-env';

describe('eventBusOptionsFromEnv', () => {
  it("reads the design documents' variables", () => {
    expect(
      eventBusOptionsFromEnv({
        RABBITMQ_URL: 'amqp://rabbitmq:5672',
        EVENT_BUS_MAX_LISTENERS: '100',
        EVENT_BUS_RETRY_DELAY: '1000',
        EVENT_BUS_MAX_RETRIES: '3',
        EVENT_BUS_DEAD_LETTER_THRESHOLD: '100',
      }),
    ).toEqual({
      url: 'amqp://rabbitmq:5672',
      maxSubscriptions: 100,
      retryDelayMs: 1000,
      retryAttempts: 3,
      deadLetterThreshold: 100,
    });
    expect(eventBusOptionsFromEnv({})).toEqual({});
  });

  it.each([
    ['EVENT_BUS_RETRY_DELAY', '1e3'],
    ['EVENT_BUS_MAX_RETRIES', '-1'],
    ['EVENT_BUS_MAX_LISTENERS', '0'],
  ])('refuses %s=%s naming the variable', (variable, value) => {
    expect(() => eventBusOptionsFromEnv({ [variable]: value })).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST', metadata: expect.objectContaining({ variable }) }),
    );
  });
});
