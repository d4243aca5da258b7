import type { IncomingMessage, ServerResponse } from 'node:http';
import { clockOption, functionOption, randomId } from '@clone/internal';
import { type Clock, parseOptions, systemClock } from '@clone/service-errors';
import { z } from 'zod';
import {
  CORRELATION_ID_HEADER,
  callContextStorage,
  DEADLINE_HEADER,
  type HttpCallContext,
  isValidCorrelationId,
  parseDeadlineHeader,
} from './propagation-headers';

const callContextOptionsSchema = z.strictObject({
  /** Correlation id of a request that came without a usable one (default a random UUID). */
  createCorrelationId: functionOption<() => string>().optional(),
  /** Longest deadline accepted from a caller, in ms (default none: the caller's is kept as sent). */
  maxDeadlineMs: z.number().int().min(1).max(2_147_483_647).optional(),
  clock: clockOption<Clock>().optional(),
});

/** Options of {@link callContextMiddleware} and {@link withCallContext}. */
export type CallContextOptions = z.input<typeof callContextOptionsSchema>;

/** The context an inbound request's headers describe. */
function contextOf(
  req: IncomingMessage,
  clock: Clock,
  create: (() => string) | undefined,
  maxMs: number | undefined,
): HttpCallContext {
  const sent = req.headers[CORRELATION_ID_HEADER];
  const correlationId = isValidCorrelationId(sent) ? sent : randomId(create);
  let remaining = parseDeadlineHeader(req.headers[DEADLINE_HEADER]);
  if (maxMs !== undefined && (remaining === undefined || remaining > maxMs)) remaining = maxMs;
  return remaining === undefined ? { correlationId } : { correlationId, deadline: clock.now() + remaining };
}

type Next = (error?: unknown) => void;

/**
 * Express/connect middleware (`app.use(callContextMiddleware())`) that runs the rest of the
 * request in a call context: the caller's `x-correlation-id` (a new id when absent or unusable,
 * echoed on the response) and the caller's deadline from `x-request-timeout-ms`. Every
 * ServiceClient request and gRPC call made while handling it carries that id and starts from
 * the time left, in the same context gRPC servers use.
 */
export function callContextMiddleware(
  options: CallContextOptions = {},
): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  const o = parseOptions(callContextOptionsSchema, options, 'callContextMiddleware');
  const clock = o.clock ?? systemClock;
  return (req, res, next) => {
    const context = contextOf(req, clock, o.createCorrelationId, o.maxDeadlineMs);
    if (!res.headersSent) res.setHeader(CORRELATION_ID_HEADER, context.correlationId);
    callContextStorage.run(context, next);
  };
}

/**
 * The same for a plain `node:http` server: `createServer(withCallContext((req, res) => …))`
 * runs the handler in the request's call context.
 */
export function withCallContext<Req extends IncomingMessage, Res extends ServerResponse>(
  handler: (req: Req, res: Res) => void,
  options: CallContextOptions = {},
): (req: Req, res: Res) => void {
  const o = parseOptions(callContextOptionsSchema, options, 'withCallContext');
  const clock = o.clock ?? systemClock;
  return (req, res) => {
    const context = contextOf(req, clock, o.createCorrelationId, o.maxDeadlineMs);
    if (!res.headersSent) res.setHeader(CORRELATION_ID_HEADER, context.correlationId);
    callContextStorage.run(context, () => handler(req, res));
  };
}

/** The call context of the code running now (an inbound HTTP or gRPC request's), if any. */
export function currentCallContext(): HttpCallContext | undefined {
  return callContextStorage.getStore();
}
