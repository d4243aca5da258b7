import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

/**
 * Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus `host`
 * (the upstream's own is set by the pool): never copied from one hop to the next.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'expect',
]);

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The caller's `X-Request-ID` when it is a sane token, else undefined (a new one is made). */
export function incomingRequestId(req: IncomingMessage): string | undefined {
  const id = req.headers['x-request-id'];
  return typeof id === 'string' && REQUEST_ID.test(id) ? id : undefined;
}

/**
 * What goes upstream: the caller's end-to-end headers (`Authorization` included), the request
 * id, the target service (`X-Gateway-Service`) and the client address appended to
 * `X-Forwarded-For`.
 */
export function upstreamRequestHeaders(
  req: IncomingMessage,
  requestId: string,
  service: string,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const incoming = req.headers;
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name)) continue;
    const value = incoming[name];
    if (value !== undefined) out[name] = value;
  }
  const connection = incoming.connection;
  if (typeof connection === 'string' && connection !== 'keep-alive' && connection !== 'close')
    for (const token of connection.split(',')) delete out[token.trim().toLowerCase()];
  out['x-request-id'] = requestId;
  out['x-gateway-service'] = service;
  const client = req.socket.remoteAddress ?? '';
  const prior = incoming['x-forwarded-for'];
  out['x-forwarded-for'] = prior === undefined || prior === '' ? client : `${prior}, ${client}`;
  return out;
}

/** The upstream's response headers minus hop-by-hop ones, ready for `writeHead`. */
export function downstreamResponseHeaders(
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name)) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Whether the request carries a body that would have to be streamed (and so cannot be replayed). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}
