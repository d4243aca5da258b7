import { describe, expect, it } from 'vitest';
import { type PendingPublish, PublishBuffer } from './rabbitmq-publish-buffer';

/** A clock whose timers fire only when the test says so. */
function manualClock() {
  const timers = new Map<number, () => void>();
  let next = 0;
  return {
    now: () => 0,
    setTimeout: (fn: () => void) => {
      timers.set(++next, fn);
      return next;
    },
    clearTimeout: (handle: unknown) => void timers.delete(handle as number),
    fireAll: () => {
      for (const [id, fn] of [...timers]) {
        timers.delete(id);
        fn();
      }
    },
    get pending() {
      return timers.size;
    },
  };
}

const body = Buffer.from('{}');

describe('PublishBuffer', () => {
  it('parks publishes while disconnected and refuses new ones past the bound with SERVICE_UNAVAILABLE', async () => {
    const clock = manualClock();
    const buffer = new PublishBuffer({ maxBufferedPublishes: 2, publishTimeoutMs: 1000, clock });
    const park = (p: PendingPublish) => buffer.park(p);
    const a = buffer.add('a', body, {}, park);
    const b = buffer.add('b', body, {}, park);
    await expect(buffer.add('c', body, {}, park)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(buffer.parked).toBe(2);
    const session = {};
    const sent: PendingPublish[] = [];
    buffer.flush((p) => {
      buffer.sent(p, session);
      sent.push(p);
    });
    expect(sent.map((p) => p.routingKey)).toEqual(['a', 'b']);
    for (const p of sent) buffer.confirmed(p, session, undefined, () => {});
    await Promise.all([a, b]);
    expect(clock.pending).toBe(0);
  });

  it('sends unconfirmed publishes again after a lost connection, ignoring the stale answer', async () => {
    const clock = manualClock();
    const buffer = new PublishBuffer({ maxBufferedPublishes: 0, publishTimeoutMs: 1000, clock });
    const first = {};
    let pending: PendingPublish | undefined;
    const done = buffer.add('a', body, {}, (p) => {
      buffer.sent(p, first);
      pending = p;
    });
    buffer.requeueUnconfirmed();
    // The dying channel's error for the old send must not fail or resend it.
    buffer.confirmed(pending!, first, new Error('channel closed'), () => expect.unreachable());
    expect(buffer.parked).toBe(1);
    const second = {};
    buffer.flush((p) => buffer.sent(p, second));
    buffer.confirmed(pending!, second, undefined, () => {});
    await done;
  });

  it('fails with TIMEOUT when no confirm comes in publishTimeoutMs', async () => {
    const clock = manualClock();
    const buffer = new PublishBuffer({ maxBufferedPublishes: 5, publishTimeoutMs: 1000, clock });
    const done = buffer.add('a', body, {}, (p) => buffer.park(p));
    clock.fireAll();
    await expect(done).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(buffer.parked).toBe(0);
  });
});
