import { createSaga, SagaMonitor, SagaOrchestrator } from '@clone/saga';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { parentOf, testMeters, testTracing } from '../test/sdk';
import { MetricNames as M } from './metric-names';
import { instrumentSagaOrchestrator } from './saga-metrics';
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

  it('runs handlers inside their step span and compensations inside their compensation span, unasked', async () => {
    const t = testTracing();
    const o = new SagaOrchestrator({
      // One attempt per compensation: the test is about where it runs, not how often.
      compensationRetry: { execute: async (fn, signal) => fn({ signal: signal!, attempt: 1 }) },
    });
    const tracing = traceSagaOrchestrator(o, { tracerProvider: t.tracerProvider });
    const inner = t.tracerProvider.getTracer('work');
    let tries = 0;
    o.registerStepHandler('reserve', async () => {
      // After an await too: the step's context follows the handler's async work.
      await new Promise((resolve) => setImmediate(resolve));
      inner.startSpan(`stock call ${++tries}`).end();
      if (tries === 1) throw new Error('stock busy');
      return {};
    });
    o.registerStepHandler('charge', () => {
      inner.startSpan('pay call').end();
      throw new Error('card declined');
    });
    o.registerCompensationHandler('release', async () => {
      await Promise.resolve();
      inner.startSpan('release call').end();
    });
    const steps = [
      {
        id: 'reserve',
        name: 'reserve',
        service: 'stock',
        action: 'reserve',
        compensationAction: 'release',
        retryAttempts: 1,
      },
      { id: 'charge', name: 'charge', service: 'pay', action: 'charge', dependencies: ['reserve'] },
    ];
    await o.waitForSaga(await o.startSaga('order', steps, {}));
    const reserve = t.byName('step reserve').spanContext().spanId;
    expect(parentOf(t.byName('stock call 1'))).toBe(reserve);
    expect(parentOf(t.byName('stock call 2'))).toBe(reserve);
    expect(parentOf(t.byName('pay call'))).toBe(t.byName('step charge').spanContext().spanId);
    const compensate = t.byName('compensate reserve');
    expect(parentOf(compensate)).toBe(t.byName('saga order').spanContext().spanId);
    expect(parentOf(t.byName('release call'))).toBe(compensate.spanContext().spanId);

    // stop() removes the hook: a later saga's handlers run in no span of this tracing.
    tracing.stop();
    let active: unknown = 'unset';
    o.registerStepHandler('peek', () => {
      active = trace.getActiveSpan();
      return {};
    });
    await o.waitForSaga(
      await o.startSaga('later', [{ id: 'p', name: 'p', service: 's', action: 'peek' }], {}),
    );
    expect(active).toBeUndefined();
    await o.close({ drainTimeoutMs: 0 });
    await t.close();
  });

  it('traces and counts createSaga sagas through a SagaMonitor: steps and compensations in their spans', async () => {
    const t = testTracing();
    const m = testMeters();
    const sagas = new SagaMonitor();
    const tracing = traceSagaOrchestrator(sagas, { tracerProvider: t.tracerProvider });
    const stopMetrics = instrumentSagaOrchestrator(sagas, { meterProvider: m.meterProvider });
    const work = t.tracerProvider.getTracer('work');
    const result = await createSaga({}, { type: 'conversation', monitor: sagas, sagaId: 'c-1' })
      .step(
        'transcribe',
        () => work.startSpan('asr call').end(),
        () => work.startSpan('undo transcript').end(),
        { service: 'asr' },
      )
      .step(
        'speak',
        () => {
          throw new Error('tts down');
        },
        undefined,
        { service: 'tts' },
      )
      .execute();
    expect(result.success).toBe(false);
    const saga = t.byName('saga conversation');
    const transcribe = t.byName('step transcribe');
    const speak = t.byName('step speak');
    const compensate = t.byName('compensate transcribe');
    for (const child of [transcribe, speak, compensate])
      expect(parentOf(child)).toBe(saga.spanContext().spanId);
    // The builder's attempts ran in their spans with no user code (the monitor's step-context hook).
    expect(parentOf(t.byName('asr call'))).toBe(transcribe.spanContext().spanId);
    expect(parentOf(t.byName('undo transcript'))).toBe(compensate.spanContext().spanId);
    expect(transcribe.attributes['rpc.service']).toBe('asr');
    expect(speak.status.code).toBe(SpanStatusCode.ERROR);
    expect(saga.status).toEqual({ code: SpanStatusCode.ERROR, message: 'compensated' });
    expect(await m.value(M.sagaStarted, { 'clone.saga.type': 'conversation' })).toBe(1);
    expect(
      await m.value(M.sagaEnded, { 'clone.saga.type': 'conversation', 'clone.saga.outcome': 'compensated' }),
    ).toBe(1);
    expect(
      await m.value(M.sagaStepDuration, { 'clone.saga.step': 'speak', 'clone.saga.outcome': 'failed' }),
    ).toBe(1);
    stopMetrics();
    tracing.stop();
    await m.close();
    await t.close();
  });
});
