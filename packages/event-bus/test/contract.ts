import { isServiceError, ServiceErrorCode } from '@clone/service-errors';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  currentCorrelationId,
  defineEvent,
  EventBuilder,
  type EventBus,
  type EventBusOptions,
  type EventEnvelope,
  runWithCorrelationId,
} from '../src/index';
import { deferred, waitUntil } from './wait';

/** A bus under test and a way to put any body on its exchange (to test what validation refuses). */
export interface ContractBus {
  bus: EventBus;
  rawPublish(routingKey: string, body: string): Promise<void>;
}

/** What a backend provides to run the contract: a new bus, isolated from every other test's. */
export type CreateContractBus = (options: Omit<EventBusOptions, 'serviceName'>) => Promise<ContractBus>;

const SampleCreated = defineEvent(
  'sample.created',
  z.object({ sampleId: z.string(), priority: z.enum(['low', 'normal', 'high', 'urgent']).default('normal') }),
);
const SampleStatusChanged = defineEvent(
  'sample.status_changed',
  z.object({ sampleId: z.string(), oldStatus: z.string(), newStatus: z.string() }),
);

/**
 * The behaviour every transport must have: the in-memory one and RabbitMQ run these same tests.
 * Retry delays are a few ms so retries happen at once; waits poll for an outcome with a generous
 * hang guard, never assert a duration.
 */
export function describeEventBusContract(name: string, create: CreateContractBus): void {
  describe(`event bus contract: ${name}`, () => {
    const open: EventBus[] = [];
    const make = async (options: Omit<EventBusOptions, 'serviceName'> = {}): Promise<ContractBus> => {
      const made = await create({ retryDelayMs: 5, ...options });
      open.push(made.bus);
      return made;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((b) => b.close()));
    });

    it('delivers a published event with its envelope, typed data and correlation id', async () => {
      const { bus } = await make({ events: [SampleCreated] });
      const seen: { event: EventEnvelope; correlation: string | undefined }[] = [];
      await bus.subscribe(SampleCreated, async (event) => {
        const id: string = event.data.sampleId;
        expect(id).toBe('s-1');
        seen.push({ event, correlation: currentCorrelationId() });
      });
      const event = SampleCreated.create({ sampleId: 's-1' }, 'sample-service', { correlationId: 'corr-1' });
      await bus.publish(event);
      await waitUntil(() => seen.length === 1, 'delivery');
      expect(seen[0]!.event).toMatchObject({
        id: event.id,
        type: 'sample.created',
        source: 'sample-service',
        correlationId: 'corr-1',
        version: 1,
        data: { sampleId: 's-1', priority: 'normal' },
      });
      expect(seen[0]!.correlation).toBe('corr-1');
      expect(bus.getStats()).toMatchObject({
        totalEvents: 1,
        eventsByType: { 'sample.created': 1 },
        failedEvents: 0,
      });
    });

    it('takes the correlation id of the context it is published in', async () => {
      const { bus } = await make();
      const got: string[] = [];
      await bus.subscribe('order.created', (e) => {
        got.push(e.correlationId);
      });
      await runWithCorrelationId('from-grpc-call', () =>
        bus.publish(EventBuilder.create('order.created', { data: { n: 1 } }, 'order-service')),
      );
      await waitUntil(() => got.length === 1, 'delivery');
      expect(got).toEqual(['from-grpc-call']);
    });

    it('routes with AMQP topic patterns: * is one word, # is zero or more', async () => {
      const { bus } = await make();
      const got: Record<string, string[]> = { star: [], hash: [], all: [], one: [] };
      await bus.subscribe('sample.*', (e) => void got.star!.push(e.type));
      await bus.subscribe('sample.#', (e) => void got.hash!.push(e.type));
      await bus.subscribe('#', (e) => void got.all!.push(e.type));
      await bus.subscribe('*', (e) => void got.one!.push(e.type));
      for (const type of ['sample.created', 'sample.qc.passed', 'sample', 'ai.done']) {
        await bus.publish(EventBuilder.create(type, { data: {} }, 'test'));
      }
      await waitUntil(() => got.all!.length === 4, 'all four on #');
      await waitUntil(
        () => got.hash!.length === 3 && got.star!.length === 1 && got.one!.length === 1,
        'routing',
      );
      expect(got.star).toEqual(['sample.created']);
      expect(got.hash!.sort()).toEqual(['sample', 'sample.created', 'sample.qc.passed']);
      expect(got.one).toEqual(['sample']);
    });

    it('gives each queue every event, and shares one queue between its consumers', async () => {
      const { bus } = await make();
      const audit: string[] = [];
      const workers: string[][] = [[], []];
      await bus.subscribe('job.#', (e) => void audit.push(e.id), { queue: `audit-${name}` });
      await bus.subscribe('job.#', (e) => void workers[0]!.push(e.id), { queue: `work-${name}` });
      await bus.subscribe('job.#', (e) => void workers[1]!.push(e.id), { queue: `work-${name}` });
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const event = EventBuilder.create('job.queued', { data: { i } }, 'test');
        ids.push(event.id);
        await bus.publish(event);
      }
      await waitUntil(
        () => audit.length === 20 && workers[0]!.length + workers[1]!.length === 20,
        'deliveries',
      );
      expect(audit.sort()).toEqual([...ids].sort());
      expect([...workers[0]!, ...workers[1]!].sort()).toEqual([...ids].sort());
    });

    it('refuses invalid events with BAD_REQUEST naming the field, and publishes nothing', async () => {
      const { bus } = await make({ events: [SampleCreated, SampleStatusChanged] });
      const got: unknown[] = [];
      await bus.subscribe('#', (e) => void got.push(e.data));
      const bad = EventBuilder.create('sample.created', { data: { sampleId: 42 } }, 'test');
      await expect(bus.publish(bad)).rejects.toMatchObject({
        code: ServiceErrorCode.BAD_REQUEST,
        metadata: { field: 'data.sampleId' },
      });
      const unknown = EventBuilder.create('sample.deleted', { data: {} }, 'test');
      await expect(bus.publish(unknown)).rejects.toMatchObject({
        code: 'BAD_REQUEST',
        metadata: { field: 'type' },
      });
      const noSource = {
        ...EventBuilder.create('sample.created', { data: { sampleId: 'x' } }, 'test'),
        source: '',
      };
      await expect(bus.publish(noSource)).rejects.toMatchObject({
        code: 'BAD_REQUEST',
        metadata: { field: 'source' },
      });
      await bus.publish(SampleCreated.create({ sampleId: 'ok' }, 'test'));
      await waitUntil(() => got.length === 1, 'the valid event');
      expect(got).toEqual([{ sampleId: 'ok', priority: 'normal' }]);
    });

    it('refuses bad subscriptions with BAD_REQUEST at the call', async () => {
      const { bus } = await make();
      const fields = (fn: () => unknown): unknown => {
        try {
          fn();
        } catch (error) {
          return isServiceError(error) ? [error.code, error.metadata?.field] : error;
        }
        return 'no error';
      };
      expect(fields(() => bus.subscribe('a..b', () => {}))).toEqual(['BAD_REQUEST', 'pattern']);
      expect(fields(() => bus.subscribe('a', () => {}, { retryAttempts: -1 }))).toEqual([
        'BAD_REQUEST',
        'retryAttempts',
      ]);
      expect(fields(() => bus.subscribe('a', () => {}, { prefetch: 0 }))).toEqual([
        'BAD_REQUEST',
        'prefetch',
      ]);
      expect(fields(() => bus.subscribe('a', 'nope' as never))).toEqual(['BAD_REQUEST', 'handler']);
    });

    it('absorbs a duplicate of an event it handled (same id)', async () => {
      const { bus } = await make();
      let handled = 0;
      await bus.subscribe('order.paid', () => {
        handled++;
      });
      const event = EventBuilder.create('order.paid', { data: {} }, 'test');
      await bus.publish(event);
      await bus.publish(event);
      await bus.publish(EventBuilder.create('order.paid', { data: {} }, 'test'));
      await waitUntil(
        () => handled === 2 && bus.getStats().duplicateEvents === 1,
        'two handled, one duplicate',
      );
    });

    it('handles only what the filter accepts', async () => {
      const { bus } = await make({ events: [SampleCreated] });
      const got: string[] = [];
      await bus.subscribe(SampleCreated, (e) => void got.push(e.data.sampleId), {
        filter: (e) => e.data.priority === 'high',
      });
      await bus.publish(SampleCreated.create({ sampleId: 'low', priority: 'low' }, 'test'));
      await bus.publish(SampleCreated.create({ sampleId: 'high', priority: 'high' }, 'test'));
      await bus.publish(SampleCreated.create({ sampleId: 'last', priority: 'high' }, 'test'));
      await waitUntil(() => got.length === 2, 'filtered deliveries');
      expect(got).toEqual(['high', 'last']);
    });

    it('retries a failing handler with backoff until it succeeds', async () => {
      const { bus } = await make();
      const attempts: number[] = [];
      await bus.subscribe(
        'pdf.process',
        () => {
          attempts.push(attempts.length + 1);
          if (attempts.length < 3) throw new Error('flaky');
        },
        { retryAttempts: 3, retryDelayMs: 2 },
      );
      await bus.publish(EventBuilder.create('pdf.process', { data: {} }, 'test'));
      await waitUntil(() => attempts.length === 3, 'three attempts');
      expect(bus.getStats()).toMatchObject({ failedEvents: 2, retriedEvents: 2, totalEvents: 3 });
      expect(await bus.getDeadLetterQueue()).toEqual([]);
    });

    it('dead-letters an event after its retries, with the error, and replays it after a fix', async () => {
      const { bus } = await make({ deadLetterThreshold: 1 });
      let fixed = false;
      const handled: string[] = [];
      await bus.subscribe(
        'invoice.created',
        (e) => {
          if (!fixed) throw Object.assign(new Error('ledger down'), { code: 'LEDGER_DOWN' });
          handled.push(e.id);
        },
        { retryAttempts: 2, retryDelayMs: 1 },
      );
      const event = EventBuilder.create('invoice.created', { data: { total: 3 } }, 'billing');
      await bus.publish(event);
      await waitUntil(async () => (await bus.getDeadLetterQueue()).length === 1, 'a dead letter');
      const [letter] = await bus.getDeadLetterQueue();
      expect(letter).toMatchObject({
        id: event.id,
        routingKey: 'invoice.created',
        reason: 'handler-failed',
        error: { code: 'LEDGER_DOWN', message: 'ledger down' },
        attempts: 3,
        event: { id: event.id, data: { total: 3 } },
      });
      expect(Date.parse(letter!.firstFailureAt!)).not.toBeNaN();
      expect((await bus.healthCheck()).status).toBe('degraded');
      fixed = true;
      expect(await bus.replayDeadLetters(event.id)).toBe(1);
      await waitUntil(() => handled.length === 1, 'the replayed event');
      expect(await bus.getDeadLetterQueue()).toEqual([]);
      expect((await bus.healthCheck()).status).toBe('healthy');
    });

    it('sends a body that is not JSON, or fails its schema, straight to the dead letters and keeps consuming', async () => {
      const { bus, rawPublish } = await make({ events: [SampleCreated] });
      const got: string[] = [];
      await bus.subscribe(SampleCreated, (e) => void got.push(e.data.sampleId), { retryAttempts: 3 });
      await rawPublish('sample.created', '{not json');
      const badData = { ...SampleCreated.create({ sampleId: 'x' }, 'test'), data: { sampleId: 7 } };
      await rawPublish('sample.created', JSON.stringify(badData));
      await bus.publish(SampleCreated.create({ sampleId: 'fine' }, 'test'));
      await waitUntil(() => got.length === 1, 'the valid event');
      await waitUntil(async () => (await bus.getDeadLetterQueue()).length === 2, 'two dead letters');
      const letters = await bus.getDeadLetterQueue();
      expect(letters.map((l) => [l.reason, l.error?.code]).sort()).toEqual([
        ['invalid', 'INVALID_DATA'],
        ['invalid', 'INVALID_JSON'],
      ]);
      expect(letters.find((l) => l.error?.code === 'INVALID_DATA')?.error?.message).toContain(
        'data.sampleId',
      );
      expect(bus.getStats().failedEvents).toBe(0);
      expect(await bus.clearDeadLetterQueue()).toBe(2);
      expect(await bus.getDeadLetterQueue()).toEqual([]);
    });

    it('counts events waiting for a retry', async () => {
      const { bus } = await make();
      let failures = 0;
      await bus.subscribe(
        'slow.retry',
        () => {
          failures++;
          throw new Error('later');
        },
        { retryAttempts: 1, retryDelayMs: 600_000 },
      );
      await bus.publish(EventBuilder.create('slow.retry', { data: {} }, 'test'));
      await waitUntil(async () => (await bus.getRetryQueueSize()) === 1, 'one waiting retry');
      expect(failures).toBe(1);
    });

    it('runs at most `concurrency` handlers of a subscription at once', async () => {
      const { bus } = await make();
      let running = 0;
      let most = 0;
      let done = 0;
      const release = deferred();
      await bus.subscribe(
        'work.item',
        async () => {
          running++;
          most = Math.max(most, running);
          if (running === 2) release.resolve();
          await release.promise;
          running--;
          done++;
        },
        { concurrency: 2, prefetch: 10 },
      );
      for (let i = 0; i < 6; i++)
        await bus.publish(EventBuilder.create('work.item', { data: { i } }, 'test'));
      await waitUntil(() => done === 6, 'six handled');
      expect(most).toBe(2);
    });

    it('accepts the design document subscription form', async () => {
      const { bus } = await make();
      const got: unknown[] = [];
      await bus.subscribe({
        eventType: 'user.created',
        handler: async (event) => void got.push(event.data),
        queue: `access-service-${name}.user.created`,
        retries: 3,
        retryDelay: 1000,
      });
      await bus.publish(EventBuilder.create('user.created', { data: { userId: '123' } }, 'auth-service'));
      await waitUntil(() => got.length === 1, 'delivery');
      expect(got).toEqual([{ userId: '123' }]);
    });

    it('close() lets a running handler finish, then refuses publishes', async () => {
      const { bus } = await make();
      const started = deferred();
      const finish = deferred();
      let finished = false;
      await bus.subscribe('long.job', async () => {
        started.resolve();
        await finish.promise;
        finished = true;
      });
      await bus.publish(EventBuilder.create('long.job', { data: {} }, 'test'));
      await started.promise;
      const closing = bus.close();
      finish.resolve();
      await closing;
      expect(finished).toBe(true);
      expect(bus.isConnected()).toBe(false);
      await expect(bus.publish(EventBuilder.create('long.job', { data: {} }, 'test'))).rejects.toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
      });
      expect((await bus.healthCheck()).status).toBe('unhealthy');
    });
  });
}
