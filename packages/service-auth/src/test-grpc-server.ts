/**
 * Test support for the interceptor tests: a tiny ASR-like service and the standard health
 * service on a real grpc-js server on 127.0.0.1, behind the auth server interceptor.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { getServiceIdentity, type ServerInterceptorOptions } from './server-interceptor';
import type { ServiceAuthManager } from './service-auth-manager';

// A tiny ASR-like service and the standard health service, from an inline .proto.
const PROTO = `
syntax = "proto3";
package asr;
message Audio { string text = 1; }
message Reply { string identity = 1; string authorization = 2; }
service ASRService {
  rpc Transcribe (Audio) returns (Reply);
  rpc Configure (Audio) returns (Reply);
  rpc Stream (Audio) returns (stream Reply);
}
`;
const HEALTH = `
syntax = "proto3";
package grpc.health.v1;
message HealthCheckRequest { string service = 1; }
message HealthCheckResponse { int32 status = 1; }
service Health { rpc Check (HealthCheckRequest) returns (HealthCheckResponse); }
`;

/** What every test method answers: the identity the handler saw and its authorization header. */
export interface Reply {
  identity: string;
  authorization: string;
}
type Unary<Req> = (
  req: Req,
  md: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: grpc.requestCallback<Reply>,
) => void;
/** A client of the test ASR service. */
export interface AsrClient extends grpc.Client {
  Transcribe: Unary<{ text: string }>;
  Configure: Unary<{ text: string }>;
  Stream(req: { text: string }, md: grpc.Metadata): grpc.ClientReadableStream<Reply>;
}
/** A client of the standard health service. */
export interface HealthClient extends grpc.Client {
  Check(req: { service: string }, cb: grpc.requestCallback<{ status: number }>): void;
}

function loadServices() {
  // Loaded once, synchronously, when a test file imports this module; the files go right after.
  const dir = mkdtempSync(join(tmpdir(), 'service-auth-proto-'));
  try {
    writeFileSync(join(dir, 'asr.proto'), PROTO);
    writeFileSync(join(dir, 'health.proto'), HEALTH);
    return grpc.loadPackageDefinition(
      protoLoader.loadSync([join(dir, 'asr.proto'), join(dir, 'health.proto')], { keepCase: true }),
    ) as unknown as {
      asr: { ASRService: grpc.ServiceClientConstructor };
      grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const loaded = loadServices();
const AsrService = loaded.asr.ASRService;
/** The standard health service's client constructor. */
export const HealthService = loaded.grpc.health.v1.Health;

function reply(call: { metadata: grpc.Metadata }): Reply {
  return {
    identity: JSON.stringify(getServiceIdentity(call) ?? null),
    authorization: String(call.metadata.get('authorization')[0] ?? ''),
  };
}

/** A real grpc-js server on 127.0.0.1 with the auth server interceptor. */
export async function startServer(auth: ServiceAuthManager, options: ServerInterceptorOptions) {
  const server = new grpc.Server({ interceptors: [auth.createServerInterceptor(options)] });
  server.addService(AsrService.service, {
    Transcribe: (call: grpc.ServerUnaryCall<unknown, Reply>, cb: grpc.sendUnaryData<Reply>) =>
      cb(null, reply(call)),
    Configure: (call: grpc.ServerUnaryCall<unknown, Reply>, cb: grpc.sendUnaryData<Reply>) =>
      cb(null, reply(call)),
    Stream: (call: grpc.ServerWritableStream<unknown, Reply>) => {
      call.write(reply(call));
      call.end();
    },
  });
  server.addService(HealthService.service, {
    Check: (_call: unknown, cb: grpc.sendUnaryData<{ status: number }>) => cb(null, { status: 1 }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { port, close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())) };
}

/** A client of the test ASR service on `port`. */
export function client(port: number, interceptors: grpc.Interceptor[] = []): AsrClient {
  return new AsrService(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    interceptors,
  }) as unknown as AsrClient;
}

/** One unary call; resolves with its error or reply, never rejects. */
export function call(c: AsrClient, method: 'Transcribe' | 'Configure', md = new grpc.Metadata()) {
  return new Promise<{ error: grpc.ServiceError | null; reply: Reply | undefined }>((resolve) =>
    c[method]({ text: 'hi' }, md, {}, (error, r) => resolve({ error, reply: r })),
  );
}

/** Metadata carrying `authorization: Bearer <token>`. */
export function bearer(token: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

/** The permissions the test ASR service requires per method. */
export const methodPermissions = {
  '/asr.ASRService/Transcribe': ['asr:read'],
  '/asr.ASRService/Configure': ['asr:admin', 'asr:write'],
  '/asr.ASRService/Stream': ['asr:read'],
};
