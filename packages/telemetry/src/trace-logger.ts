import { correlationStorage, loggerOption, nonEmptyString } from '@clone/internal';
import { type Logger, parseOptions } from '@clone/service-errors';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { z } from 'zod';

const schema = z.strictObject({
  logger: loggerOption<Logger>(),
  service: nonEmptyString(),
  shape: z.enum(['message-first', 'fields-first']).default('message-first'),
});

/** A pino-style logger: fields first, then the message (`pino.info({ a: 1 }, 'msg')`). */
export interface FieldsFirstLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/**
 * Options of {@link withTraceContext}: the logger written to, the `service` every line names,
 * and its call `shape`: `message-first` (the @clone `Logger`, winston, console adapters) or
 * `fields-first` (pino, whose `(message, fields)` would drop the fields as format arguments).
 */
export type TraceLoggerOptions =
  | { logger: Logger; service: string; shape?: 'message-first' }
  | { logger: FieldsFirstLogger; service: string; shape: 'fields-first' };

/**
 * A logger that adds to every line `service`, the current `correlationId` (of the @clone call
 * context: a gRPC handler, an event handler, an `executeServiceCall`) and the active span's
 * `traceId` and `spanId`, then writes through `logger`. What it returns is a @clone `Logger`
 * (`(message, fields)`), to give to any @clone package; it writes in the given logger's `shape`
 * (`fields-first` for pino). Fields given by the caller win over the added ones.
 */
export function withTraceContext(options: TraceLoggerOptions): Logger {
  const { logger, service, shape } = parseOptions(schema, options, 'withTraceContext');
  const storage = correlationStorage();
  const fields = (given: Record<string, unknown> | undefined): Record<string, unknown> => {
    const out: Record<string, unknown> = { service };
    const correlationId = storage.getStore()?.correlationId;
    if (correlationId !== undefined) out.correlationId = correlationId;
    const span = trace.getActiveSpan()?.spanContext();
    if (span !== undefined && isSpanContextValid(span)) {
      out.traceId = span.traceId;
      out.spanId = span.spanId;
    }
    return given === undefined ? out : Object.assign(out, given);
  };
  if (shape === 'fields-first') {
    const pino = logger as unknown as FieldsFirstLogger;
    return {
      debug: (message, given) => pino.debug(fields(given), message),
      info: (message, given) => pino.info(fields(given), message),
      warn: (message, given) => pino.warn(fields(given), message),
      error: (message, given) => pino.error(fields(given), message),
    };
  }
  return {
    debug: (message, given) => logger.debug(message, fields(given)),
    info: (message, given) => logger.info(message, fields(given)),
    warn: (message, given) => logger.warn(message, fields(given)),
    error: (message, given) => logger.error(message, fields(given)),
  };
}
