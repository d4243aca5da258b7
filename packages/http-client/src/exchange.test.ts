/**
 * One exchange on the wire, through a ServiceClient against real node:http servers: a caller's
 * signal, streamed answers, bodies past their limits, and what a body may start with.
 */
import type { Readable } from 'node:stream';
import { ServiceErrorCode } from '@clone/service-errors';
import { describe, expect, it } from 'vitest';
import { json, rejection, testScope } from '../test/servers';

const { serve, client } = testScope();

/** Resolves once the server saw the connection of a request go. */
function closedBy(req: import('node:http').IncomingMessage): Promise<void> {
  return new Promise((resolve) => req.socket.once('close', () => resolve()));
}

describe('a caller signal', () => {
  it('rejects with CANCELLED as it aborts and drops the request on the wire', async () => {
    let gone!: Promise<void>;
    let arrived!: () => void;
    const received = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const server = await serve((req) => {
      gone = closedBy(req);
      arrived();
    }); // never answers
    const c = client({ baseUrl: server.url });
    const controller = new AbortController();
    const call = rejection(c.get('/slow', { signal: controller.signal }));
    await received;
    controller.abort();
    expect((await call).code).toBe(ServiceErrorCode.CANCELLED);
    await gone;
    expect(server.requests).toHaveLength(1); // not retried
  });

  it('sends nothing when it has already aborted', async () => {
    const server = await serve((_req, res) => json(res, 200, {}));
    const c = client({ baseUrl: server.url });
    const error = await rejection(c.get('/x', { signal: AbortSignal.abort() }));
    expect(error.code).toBe(ServiceErrorCode.CANCELLED);
    expect(server.requests).toHaveLength(0);
  });

  it('leaves an answer that came in time alone', async () => {
    const server = await serve((_req, res) => json(res, 200, { ok: true }));
    const c = client({ baseUrl: server.url });
    const controller = new AbortController();
    await expect(c.get('/x', { signal: controller.signal })).resolves.toEqual({ ok: true });
    controller.abort(); // after the answer: nothing left to cancel, nothing thrown
    await expect(c.get('/x')).resolves.toEqual({ ok: true });
  });
});

describe('streamed answers', () => {
  const CHUNK = 'z'.repeat(64 * 1024);

  it('hands over a large answer as a stream, read whole at the reader pace', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let i = 0; i < 32; i++) res.write(CHUNK);
      res.end();
    });
    const c = client({ baseUrl: server.url, maxResponseBytes: 1_000 }); // no limit on a stream
    const stream = await c.get<Readable>('/big', { responseType: 'stream' });
    let size = 0;
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      await new Promise((resolve) => setImmediate(resolve)); // a slow reader
    }
    expect(size).toBe(32 * CHUNK.length);
  });

  it('drops the connection when the reader destroys the stream', async () => {
    let gone!: Promise<void>;
    const server = await serve((req, res) => {
      gone = closedBy(req);
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(CHUNK); // and never ends
    });
    const c = client({ baseUrl: server.url });
    const stream = await c.get<Readable>('/endless', { responseType: 'stream' });
    for await (const _chunk of stream) break; // leaving the loop destroys the stream
    await gone;
  });
});

describe('bodies and their limits', () => {
  it('reads a HEAD answer that declares a body past the limit as empty', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000000' });
      res.end();
    });
    const c = client({ baseUrl: server.url, maxResponseBytes: 1_000 });
    await expect(c.request('HEAD', '/big')).resolves.toBeUndefined();
  });

  it('keeps the status of an error whose body passes the error body limit, and the pool works on', async () => {
    const big = 'e'.repeat(100 * 1024);
    const server = await serve((req, res) => {
      if (req.url === '/declared') {
        res.writeHead(404, { 'content-type': 'text/plain', 'content-length': big.length });
        return void res.end(big);
      }
      if (req.url === '/chunked') {
        res.writeHead(409, { 'content-type': 'text/plain' });
        return void res.end(big);
      }
      json(res, 200, { ok: true });
    });
    const c = client({ baseUrl: server.url });
    const declared = await rejection(c.get('/declared'));
    expect([declared.code, declared.httpStatus, declared.metadata?.body]).toEqual([
      ServiceErrorCode.NOT_FOUND,
      404,
      undefined,
    ]);
    const chunked = await rejection(c.get('/chunked'));
    expect([chunked.code, chunked.httpStatus, chunked.metadata?.body]).toEqual([
      ServiceErrorCode.CONFLICT,
      409,
      undefined,
    ]);
    await expect(c.get('/fine')).resolves.toEqual({ ok: true });
  });

  it('parses JSON that starts with a byte order mark, and multi-byte text cut across chunks', async () => {
    const text = JSON.stringify({ name: 'Entrée principale — 北门' });
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // Split inside a multi-byte character: the text is decoded once, whole.
      const cut = bytes.indexOf(Buffer.from('北')) + 1;
      res.write(bytes.subarray(0, cut));
      setTimeout(() => res.end(bytes.subarray(cut)), 20);
    });
    const c = client({ baseUrl: server.url });
    await expect(c.get('/bom')).resolves.toEqual({ name: 'Entrée principale — 北门' });
  });
});
