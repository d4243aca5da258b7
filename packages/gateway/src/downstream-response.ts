import type { ServerResponse } from 'node:http';
import type { Logger } from '@clone/service-errors';
import type { Dispatcher } from 'undici';
import { downstreamResponseHeaders } from './forwarded-headers';
import type { CachedResponse, ResponseCache } from './response-cache';

/** Where a response of a cacheable GET is copied to while it streams. @internal */
export interface CopyTarget {
  cache: ResponseCache;
  key: string;
  now: () => number;
}

/**
 * Streams an upstream response to the client: status, end-to-end headers (plus the request id
 * when the service set none), body with backpressure. A 200 without `no-store`, no larger than
 * the cache's entry bound, is copied into `copy` as it passes, for stale-if-error answers.
 * @internal
 */
export function streamResponse(
  res: ServerResponse,
  data: Dispatcher.ResponseData,
  requestId: string,
  copy: CopyTarget | undefined,
  logger: Logger,
): void {
  const headers = downstreamResponseHeaders(data.headers);
  if (headers['x-request-id'] === undefined) headers['x-request-id'] = requestId;
  res.writeHead(data.statusCode, headers);
  const body = data.body;
  if (
    copy !== undefined &&
    data.statusCode === 200 &&
    !/no-store/i.test(String(headers['cache-control'] ?? ''))
  ) {
    const { cache, key, now } = copy;
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= cache.maxEntryBytes) chunks.push(chunk);
    });
    body.once('end', () => {
      if (size <= cache.maxEntryBytes)
        cache.set(key, { statusCode: 200, headers, body: Buffer.concat(chunks, size), storedAt: now() });
    });
  }
  // Piped by hand: stream.pipeline makes an AbortController per call and aborts it on finish,
  // which builds a DOMException per request (a measurable share of a proxy's CPU).
  body.once('error', (error) => {
    logger.debug('gateway: upstream response ended early', { error });
    res.destroy(error);
  });
  // A client gone mid-body aborts the request's signal (see Gateway#forward), which ends `body`.
  body.pipe(res);
}

/**
 * Answers with a kept copy, marked stale: `Age` in whole seconds, `Warning: 110` (RFC 7234's
 * "Response is Stale") and `X-Gateway-Cache: stale`, so a client can tell it from a live answer.
 * @internal
 */
export function sendStale(res: ServerResponse, copy: CachedResponse, ageMs: number, requestId: string): void {
  res.writeHead(copy.statusCode, {
    ...copy.headers,
    'content-length': copy.body.length,
    'x-request-id': requestId,
    age: String(Math.floor(ageMs / 1000)),
    warning: '110 - "Response is Stale"',
    'x-gateway-cache': 'stale',
  });
  res.end(copy.body);
}
