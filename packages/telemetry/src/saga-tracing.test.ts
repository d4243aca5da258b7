import { SagaOrchestrator } from '@clone/saga';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { parentOf, testTracing } from '../test/sdk';
import { traceSagaOrchestrator } from './saga-tracing';

describe('traceSagaOrchestrator', () => {
  it('makes a saga span with step and compensation spans as children; withStep parents the work', async () => {
    const t = testTracing();
    const o = new SagaOrchestrator();
    const tracing = traceSagaOrchestrator(o, { tracerProvider: t.tracerProvider });
    const inner = t.tracerProvider.getTracer('work');
    o.registerStepHandler('reserve', (_s, _c, exec) =>
      tracing.withStep(exec.sagaId, 'reserve', () => {
        inner.startSpan('stock call').end();
        return { ok: trace.getActiveSpan() !== undefined };
      }),
    );
    o.registerStepHandler('charge', () => {
      throw new Error('card declined');
    });
    o.registerCompensationHandler('release', () => undefined);
    const id = await o.startSaga(
      'order',
      [
        {
          id: 'reserve',
          name: 'reserve',
          service: 'stock',
          action: 'reserve',
          compensationAction: 'release',
        },
        {
          id: 'charge',
          name: 'charge',
          service: 'pay',
          action: 'charge',
          dependencies: ['reserve'],
          retryAttempts: 0,
        },
      ],
      {},
    );
    await o.waitForSaga(id);
    const saga = t.byName('saga order');
    const reserve = t.byName('step reserve');
    const charge = t.byName('step charge');
    const compensate = t.byName('compensate reserve');
    for (const child of [reserve, charge, compensate])
      expect(parentOf(child)).toBe(saga.spanContext().spanId);
    expect(parentOf(t.byName('stock call'))).toBe(reserve.spanContext().spanId);
    expect(charge.status.code).toBe(SpanStatusCode.ERROR);
    expect(saga.status).toEqual({ code: SpanStatusCode.ERROR, message: 'compensated' });
    tracing.stop();
    await o.close({ drainTimeoutMs: 0 });
    await t.close();
  });
});
