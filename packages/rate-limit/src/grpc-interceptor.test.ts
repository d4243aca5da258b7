import { ServiceError } from '@clone/service-errors';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { rateLimitServerInterceptor } from './grpc-interceptor';
import { RateLimiter } from './rate-limiter';
import type { RateLimitStore } from './store';

const json = {
  serialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
  deserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown,
};
const definition = {
  echo: {
    path: '/test.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
} satisfies grpc.ServiceDefinition;
const EchoClient = grpc.makeGenericClientConstructor(definition, 'Echo');

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function serve(limiter: RateLimiter, key?: Parameters<typeof rateLimitServerInterceptor>[1]) {
  let handled = 0;
  const server = new grpc.Server({ interceptors: [rateLimitServerInterceptor(limiter, key)] });
  server.addService(definition, {
    echo: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      handled++;
      callback(null, call.request);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const client = new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  closers.push(async () => {
    client.close();
    await new Promise<void>((r) => server.tryShutdown(() => r()));
  });
  const call = (metadata = new grpc.Metadata()) =>
    new Promise<{ error: grpc.ServiceError | null; value: unknown }>((resolve) => {
      (client as unknown as { echo: Function }).echo(
        { n: 1 },
        metadata,
        (error: grpc.ServiceError | null, value: unknown) => resolve({ error, value }),
      );
    });
  return { call, handled: () => handled };
}

describe('rateLimitServerInterceptor (real grpc-js server on 127.0.0.1)', () => {
  it('answers RESOURCE_EXHAUSTED with grpc-retry-pushback-ms before the handler runs', async () => {
    const limiter = new RateLimiter({ tiers: [{ limit: 2, windowMs: 60_000, name: 'minute' }] });
    const { call, handled } = await serve(limiter);
    expect((await call()).value).toEqual({ n: 1 });
    expect((await call()).error).toBeNull();
    const { error } = await call();
    expect(error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const pushback = Number(error?.metadata.get('grpc-retry-pushback-ms')[0]);
    expect(pushback).toBeGreaterThan(29_000);
    expect(pushback).toBeLessThanOrEqual(30_000);
    expect(error?.metadata.get('ratelimit')[0]).toBe('"minute";r=0;t=60');
    expect(handled()).toBe(2);
    // Our clients read the pushback into retryAfterMs.
    const e = ServiceError.from(error);
    expect(e).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', retryAfterMs: pushback });
  });

  it('limits per key taken from the metadata', async () => {
    const limiter = new RateLimiter({ tiers: [{ limit: 1, windowMs: 60_000 }] });
    const { call } = await serve(limiter, { key: (md) => String(md.get('x-client-id')[0] ?? 'anonymous') });
    const as = (id: string) => {
      const md = new grpc.Metadata();
      md.set('x-client-id', id);
      return md;
    };
    expect((await call(as('a'))).error).toBeNull();
    expect((await call(as('b'))).error).toBeNull();
    expect((await call(as('a'))).error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it('answers UNAVAILABLE with a pushback while the store is down and the limiter fails closed', async () => {
    const down: RateLimitStore = {
      remote: true,
      consume: () => Promise.reject(new Error('ECONNREFUSED')),
      close: async () => {},
    };
    const limiter = new RateLimiter({
      tiers: [{ limit: 5, windowMs: 1_000 }],
      store: down,
      onStoreFailure: 'closed',
    });
    const { call, handled } = await serve(limiter);
    const { error } = await call();
    expect(error?.code).toBe(grpc.status.UNAVAILABLE);
    expect(Number(error?.metadata.get('grpc-retry-pushback-ms')[0])).toBeGreaterThan(0);
    expect(handled()).toBe(0);
  });

  it('ends the call with its status when the key function throws', async () => {
    const limiter = new RateLimiter({ tiers: [{ limit: 5, windowMs: 1_000 }] });
    const { call, handled } = await serve(limiter, {
      key: () => {
        throw new Error('no client id');
      },
    });
    expect((await call()).error?.code).toBe(grpc.status.INTERNAL);
    expect(handled()).toBe(0);
  });
});
