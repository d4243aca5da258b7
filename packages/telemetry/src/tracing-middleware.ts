import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, SpanKind } from '@opentelemetry/api';
import { extractTraceContext } from './header-propagation';
import type { Tracer, TracerSpan } from './tracer';

/** A request after {@link tracingMiddleware}: its span is `req.span`. */
export type TracedRequest = IncomingMessage & { span: TracerSpan };

/**
 * A node:http / Express / connect middleware: a SERVER span per request, a child of the
 * caller's `traceparent` (and carrying its baggage), set as `req.span`, with `http.request.method`,
 * `url.path` and `http.response.status_code`; a 5xx ends it with an error status. `next` and
 * what it starts run in the span's context.
 */
export function tracingMiddleware(
  tracer: Tracer,
): (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void {
  return (req, res, next) => {
    const parent = extractTraceContext(req.headers as Record<string, unknown>);
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const method = req.method ?? 'GET';
    const span = tracer.startSpan(`${method} ${path}`, { parent, kind: SpanKind.SERVER });
    span.setAttribute('http.request.method', method).setAttribute('url.path', path);
    (req as TracedRequest).span = span;
    res.once('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus('error', `HTTP ${res.statusCode}`);
      span.end();
    });
    context.with(span.context, next);
  };
}
