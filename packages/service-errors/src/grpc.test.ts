/**
 * The policies around real grpc-js calls on 127.0.0.1: status errors normalised and retried by
 * status name, server pushback honoured, and a timeout that cancels the call on the server.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker';
import { CircuitState } from './circuit-state';
import { compose } from './compose';
import { ServiceErrorCode } from './error-code';
import type { ExecuteContext } from './policy';
import { RetryPolicy } from './retry-policy';
import { isServiceError, ServiceError } from './service-error';
import { Timeout } from './timeout';

const json = {
  serialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
  deserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown,
};
const definition = {
  call: {
    path: '/test.Flaky/Call',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
} satisfies grpc.ServiceDefinition;

interface Request {
  key: string;
  failures: number;
  status?: number;
  pushbackMs?: string;
  hang?: boolean;
}

const seen = new Map<string, number>();
const cancelled = new Set<string>();
let server: grpc.Server;
let client: grpc.Client & {
  call: (req: Request, opts: grpc.CallOptions, cb: grpc.requestCallback<unknown>) => grpc.ClientUnaryCall;
};

beforeAll(async () => {
  server = new grpc.Server();
  server.addService(definition, {
    call: (call: grpc.ServerUnaryCall<Request, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const req = call.request;
      const n = (seen.get(req.key) ?? 0) + 1;
      seen.set(req.key, n);
      if (req.hang) {
        call.on('cancelled', () => cancelled.add(req.key));
        return;
      }
      if (n <= req.failures) {
        const metadata = new grpc.Metadata();
        if (req.pushbackMs !== undefined) metadata.set('grpc-retry-pushback-ms', req.pushbackMs);
        callback({ code: req.status ?? grpc.status.UNAVAILABLE, details: `failure ${n}`, metadata });
        return;
      }
      callback(null, { ok: true, attempt: n });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const Client = grpc.makeGenericClientConstructor(definition, 'Flaky');
  client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as typeof client;
});

afterAll(() => {
  client?.close();
  server?.forceShutdown();
});

/** One unary call that honours the context's signal and deadline, as grpc-proto does. */
function unary(req: Request) {
  return (ctx: ExecuteContext) =>
    new Promise<{ ok: boolean; attempt: number }>((resolve, reject) => {
      const call = client.call(req, { deadline: ctx.deadline }, (error, value) =>
        error ? reject(error) : resolve(value as { ok: boolean; attempt: number }),
      );
      ctx.signal.addEventListener('abort', () => call.cancel(), { once: true });
    });
}

describe('policies against a real gRPC server', () => {
  it('retries UNAVAILABLE by status name and succeeds', async () => {
    const retry = new RetryPolicy({ maxAttempts: 3, initialDelayMs: 0, retryableErrors: ['UNAVAILABLE'] });
    expect(await retry.execute(unary({ key: 'a', failures: 2 }))).toEqual({ ok: true, attempt: 3 });
  });

  it('does not retry INVALID_ARGUMENT, and the breaker does not count it', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1 });
    const policy = compose(new RetryPolicy({ maxAttempts: 3, initialDelayMs: 0 }), breaker);
    const error = await policy
      .execute(unary({ key: 'b', failures: 5, status: grpc.status.INVALID_ARGUMENT }))
      .catch((e) => e);
    expect(isServiceError(error, ServiceErrorCode.BAD_REQUEST)).toBe(true);
    expect((error as ServiceError).attempts).toBe(1);
    expect((error as ServiceError).cause).toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: 'failure 1',
    });
    expect(seen.get('b')).toBe(1);
    expect(breaker.state).toBe(CircuitState.CLOSED);
  });

  it('reads grpc-retry-pushback-ms into the delay', async () => {
    const retry = new RetryPolicy({ maxAttempts: 2, initialDelayMs: 5_000, jitter: 'none' });
    const delays: number[] = [];
    retry.on('retry', (e) => delays.push(e.delayMs));
    expect(await retry.execute(unary({ key: 'c', failures: 1, pushbackMs: '20' }))).toEqual({
      ok: true,
      attempt: 2,
    });
    expect(delays).toEqual([20]);
  });

  it('times out a hanging call, cancels it on the server and opens the breaker', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1 });
    const policy = compose({ circuitBreaker: breaker, timeout: new Timeout({ timeoutMs: 100 }) });
    const error = await policy.execute(unary({ key: 'd', failures: 0, hang: true })).catch((e) => e);
    // Whichever fires first, grpc-js's deadline (from ctx.deadline) or the Timeout, it is a TIMEOUT.
    expect(ServiceError.from(error).code).toBe(ServiceErrorCode.TIMEOUT);
    expect(breaker.getStats()).toMatchObject({ state: CircuitState.OPEN, totalTimeouts: 1 });
    await expect.poll(() => cancelled.has('d')).toBe(true);
  });
});
