import { describe, expect, it } from 'vitest';
import { createEventBus } from './create-event-bus';

describe('createEventBus', () => {
  it.each([
    [{}, 'serviceName'],
    [{ serviceName: '' }, 'serviceName'],
    [{ serviceName: 's', url: 'http://x' }, 'url'],
    [{ serviceName: 's', publishTimeoutMs: 0 }, 'publishTimeoutMs'],
    [{ serviceName: 's', maxBufferedPublishes: -1 }, 'maxBufferedPublishes'],
    [{ serviceName: 's', events: [{}] }, 'events.0'],
    [{ serviceName: 's', typo: true }, 'typo'],
  ])('refuses %j with BAD_REQUEST naming %s', (options, field) => {
    expect(() => createEventBus(options as never)).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST', metadata: expect.objectContaining({ field }) }),
    );
  });

  it('is in-memory without a url, and connects to nothing until used', async () => {
    const bus = createEventBus({ serviceName: 'svc' });
    expect(bus.isConnected()).toBe(false);
    await bus.connect();
    expect(bus.isConnected()).toBe(true);
    await bus.close();
    expect(bus.isConnected()).toBe(false);
  });
});
