import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  downstreamResponseHeaders,
  hasBody,
  incomingRequestId,
  upstreamRequestHeaders,
} from './forwarded-headers';

const request = (headers: Record<string, string>, remoteAddress = '10.0.0.9') =>
  ({ headers, socket: { remoteAddress } }) as unknown as IncomingMessage;

describe('forwarded headers', () => {
  it('drops hop-by-hop headers and those the Connection header names, keeps the rest', () => {
    const out = upstreamRequestHeaders(
      request({
        host: 'gateway:4000',
        connection: 'keep-alive, x-private-hop',
        'x-private-hop': '1',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        'proxy-authorization': 'Basic x',
        authorization: 'Bearer t',
        'content-type': 'application/json',
      }),
      'req_1',
      'user-service',
    );
    expect(out).toEqual({
      authorization: 'Bearer t',
      'content-type': 'application/json',
      'x-request-id': 'req_1',
      'x-gateway-service': 'user-service',
      'x-forwarded-for': '10.0.0.9',
    });
  });

  it('appends the client to X-Forwarded-For and replaces a forged X-Gateway-Service', () => {
    const out = upstreamRequestHeaders(
      request({ 'x-forwarded-for': '203.0.113.7, 198.51.100.2', 'x-gateway-service': 'admin' }),
      'r',
      'user-service',
    );
    expect(out['x-forwarded-for']).toBe('203.0.113.7, 198.51.100.2, 10.0.0.9');
    expect(out['x-gateway-service']).toBe('user-service');
  });

  it.each([
    ['req_123456789', 'req_123456789'],
    ['a'.repeat(128), 'a'.repeat(128)],
    ['a'.repeat(129), undefined],
    ['has space', undefined],
    ['line\nbreak', undefined],
  ])('keeps the incoming request id %j only when it is a sane token', (id, kept) => {
    expect(incomingRequestId(request({ 'x-request-id': id }))).toBe(kept);
  });

  it('strips hop-by-hop response headers and tells a body from none', () => {
    expect(
      downstreamResponseHeaders({ 'transfer-encoding': 'chunked', connection: 'close', etag: '"1"' }),
    ).toEqual({
      etag: '"1"',
    });
    expect(hasBody(request({ 'content-length': '0' }))).toBe(false);
    expect(hasBody(request({ 'content-length': '3' }))).toBe(true);
    expect(hasBody(request({ 'transfer-encoding': 'chunked' }))).toBe(true);
    expect(hasBody(request({}))).toBe(false);
  });
});
