import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { withCallContext } from '@clone/http-client';
import { RetryBudget, ServiceErrorCode } from '@clone/service-errors';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { withCorrelationId } from './call-context';
import { testManager, useCleanups } from './test-support/fixtures';
import { startServer } from './test-support/servers';

// The facade's HTTP clients ride on the service's gRPC policies: one breaker, one retry budget,
// one token, one correlation context.

const defer = useCleanups();

async function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

describe('ServiceCommunicationManager.createHttpClient', () => {
  it('shares the service breaker: HTTP failures open it for gRPC calls too', async () => {
    const http = await httpServer((_req, res) => reply(res, 500, { error: 'broken' }));
    const m = testManager(defer, { circuitBreaker: { failureThreshold: 2 } });
    const client = m.createHttpClient('asr', { baseUrl: http.url });
    expect(client.getCircuitBreaker()).toBe(m.getCircuitBreaker('asr'));
    expect(client.getRetryPolicy()).toBe(m.getRetryPolicy('asr'));
    for (let i = 0; i < 2; i++)
      await expect(client.get('/x')).rejects.toMatchObject({ code: ServiceErrorCode.INTERNAL_ERROR });
    let ran = false;
    const error = await m
      .executeServiceCall('asr', () => {
        ran = true;
        return 1;
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ServiceErrorCode.CIRCUIT_OPEN });
    expect(ran).toBe(false);
    await expect(client.get('/x')).rejects.toThrow('Circuit breaker is OPEN');
  });

  it('shares the retry budget: HTTP retries spend what gRPC calls could retry with', async () => {
    const http = await httpServer((_req, res) => reply(res, 503, { error: 'down' }));
    // A floor of one retry per 10 s and nothing earned: the first retry is the only one.
    const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 0.1, windowMs: 10_000 });
    const m = testManager(defer, {
      circuitBreaker: { failureThreshold: 100 },
      services: { asr: { retry: { budget } } },
    });
    const reasons: string[] = [];
    m.getRetryPolicy('asr').on('giveUp', (e) => reasons.push(e.reason));
    const client = m.createHttpClient('asr', { baseUrl: http.url });
    await expect(client.get('/x')).rejects.toMatchObject({ code: ServiceErrorCode.SERVICE_UNAVAILABLE });
    expect(http.requests).toHaveLength(2);
    let attempts = 0;
    await m
      .executeServiceCall(
        'asr',
        () => {
          attempts++;
          throw Object.assign(new Error('14 UNAVAILABLE'), {
            code: grpc.status.UNAVAILABLE,
            details: 'down',
          });
        },
        { idempotent: true },
      )
      .catch(() => {});
    expect(attempts).toBe(1);
    expect(reasons).toEqual(['budget', 'budget']);
  });

  it('sends the token its gRPC clients send, and one correlation id through gRPC → HTTP → gRPC', async () => {
    const seen: Array<{ hop: string; id: unknown; auth?: unknown; left?: number }> = [];
    const m = testManager(defer, { serviceId: 'websocket-server-1', serviceName: 'websocket-server' });
    // The last hop: a gRPC llm service.
    const llm = await startServer({
      auth: false,
      services: {
        llm: {
          Generate: (call, callback) => {
            const deadline = call.getDeadline();
            const left = (deadline instanceof Date ? deadline.getTime() : deadline) - Date.now();
            seen.push({ hop: 'llm (gRPC)', id: call.metadata.get('x-correlation-id')[0], left });
            callback(null, { text: 'ok' });
          },
          StreamGenerate: (call) => call.end(),
        },
      },
    });
    defer(() => llm.stop());
    const llmClient = m.createLLMClient(llm.address, ['llm:read']);
    // The middle hop: an HTTP service that calls llm over gRPC in its request's context.
    const http = await httpServer(
      withCallContext(async (req, res) => {
        seen.push({
          hop: 'mid (HTTP)',
          id: req.headers['x-correlation-id'],
          auth: req.headers.authorization,
          left: Number(req.headers['x-request-timeout-ms']),
        });
        const answer = await llmClient.promises.Generate({ prompt: 'hi' });
        reply(res, 200, answer);
      }),
    );
    const mid = m.createHttpClient('asr', { baseUrl: http.url });
    // The first hop: a gRPC asr service whose handler calls the HTTP service.
    const asr = await startServer({
      auth: false,
      services: {
        asr: {
          Transcribe: async (call) => {
            seen.push({
              hop: 'asr (gRPC)',
              id: call.metadata.get('x-correlation-id')[0],
              auth: call.metadata.get('authorization')[0],
            });
            const answer = await mid.get<{ text: string }>('/generate');
            return { transcript: answer.text };
          },
          StreamTranscribe: (call) => call.end(),
        },
      },
    });
    defer(() => asr.stop());
    const asrClient = m.createASRClient(asr.address);
    const result = await withCorrelationId('trace-42', () =>
      asrClient.promises.Transcribe({ audio: Buffer.from('x') }, { deadline: Date.now() + 4_000 }),
    );
    expect(result.transcript).toBe('ok');
    expect(seen.map((s) => [s.hop, s.id])).toEqual([
      ['asr (gRPC)', 'trace-42'],
      ['mid (HTTP)', 'trace-42'],
      ['llm (gRPC)', 'trace-42'],
    ]);
    // One deadline: the gRPC caller's 4 s, passed on by HTTP in x-request-timeout-ms, reaches llm.
    expect(seen[1]!.left).toBeGreaterThan(0);
    expect(seen[1]!.left).toBeLessThanOrEqual(4_000);
    expect(seen[2]!.left).toBeLessThanOrEqual(seen[1]!.left!);
    // One token: the asr gRPC client's and the asr HTTP client's are the same string.
    expect(seen[1]!.auth).toBe(seen[0]!.auth);
    expect(String(seen[0]!.auth)).toMatch(/^Bearer /);
  });
});
