import { correlationStorage } from '@clone/internal';
import { context, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { testTracing } from '../test/sdk';
import { withTraceContext } from './trace-logger';

describe('withTraceContext', () => {
  it('adds service, correlation id and trace id to every line, caller fields winning', async () => {
    const t = testTracing();
    const lines: Array<[string, Record<string, unknown> | undefined]> = [];
    const sink = {
      debug: (m: string, f?: Record<string, unknown>) => void lines.push([m, f]),
      info: (m: string, f?: Record<string, unknown>) => void lines.push([m, f]),
      warn: (m: string, f?: Record<string, unknown>) => void lines.push([m, f]),
      error: (m: string, f?: Record<string, unknown>) => void lines.push([m, f]),
    };
    const logger = withTraceContext({ logger: sink, service: 'asr' });
    logger.info('outside');
    const span = t.tracerProvider.getTracer('x').startSpan('work');
    correlationStorage().run({ correlationId: 'corr-7' }, () =>
      context.with(trace.setSpan(context.active(), span), () =>
        logger.warn('inside', { service: 'override', n: 1 }),
      ),
    );
    span.end();
    expect(lines[0]).toEqual(['outside', { service: 'asr' }]);
    expect(lines[1]).toEqual([
      'inside',
      {
        service: 'override',
        n: 1,
        correlationId: 'corr-7',
        traceId: span.spanContext().traceId,
        spanId: span.spanContext().spanId,
      },
    ]);
    await t.close();
  });

  it("writes pino's fields-first shape when asked", () => {
    const lines: unknown[][] = [];
    const record = (...args: unknown[]) => void lines.push(args);
    const pino = { debug: record, info: record, warn: record, error: record };
    withTraceContext({ logger: pino, service: 'asr', shape: 'fields-first' }).error('boom', { code: 'X' });
    expect(lines).toEqual([[{ service: 'asr', code: 'X' }, 'boom']]);
  });

  it('refuses a logger without the four methods', () => {
    expect(() => withTraceContext({ logger: {} as never, service: 's' })).toThrow(/logger/);
  });
});
