/**
 * Runs one example service as a process of its own:
 *
 *   node --import tsx --conditions=@clone/source examples/services/run.ts <asr|llm|rag|tts|lipsync>
 *        [--port N] [--host H] [--etcd http://127.0.0.1:2379] [--exit-with-parent]
 *        [--tls-ca ca.pem --tls-cert server.pem --tls-key server.key] [--trace-dir DIR]
 *
 * With `--etcd` it registers itself in etcd (lease TTL 2 s, so a killed process leaves the
 * others' views quickly); otherwise in a registry of its own. Prints `READY <kind> <host:port>
 * <serviceId>` once serving; SIGTERM or SIGINT deregisters it and shuts down gracefully, and
 * so does the end of stdin with `--exit-with-parent` (the demo's children: they never outlive it).
 * With `--tls-*` it serves mutual TLS: callers need a certificate signed by that CA. With
 * `--trace-dir` it registers the OpenTelemetry SDK and traces every call it serves (a SERVER
 * span, the child of the caller's span carried in the metadata), writing the spans to
 * `DIR/<kind>-service-<pid>.jsonl`.
 */
import { readFileSync } from 'node:fs';
import type { ServiceKind } from '@clone/grpc-proto';
import { ServiceRegistry } from '@clone/service-discovery';
import { tracingServerInterceptor } from '@clone/telemetry/grpc';
import { startTracing } from '../tracing/demo-tracing';
import { STARTERS } from './index';

const args = process.argv.slice(2);
const kind = args[0] as ServiceKind | undefined;
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
};

if (kind === undefined || !(kind in STARTERS)) {
  console.error(
    `usage: run.ts <${Object.keys(STARTERS).join('|')}> [--port N] [--host H] [--etcd ENDPOINT] [--tls-ca F --tls-cert F --tls-key F] [--trace-dir DIR]`,
  );
  process.exitCode = 2;
} else {
  // The SDK first: the server interceptor decides when it is made whether one is there.
  const traceDir = flag('--trace-dir');
  const tracing =
    traceDir === undefined ? undefined : startTracing({ serviceName: `${kind}-service`, dir: traceDir });
  const etcd = flag('--etcd');
  const backend =
    etcd === undefined
      ? undefined
      : new (await import('@clone/service-discovery/etcd')).EtcdBackend({ hosts: etcd, ttlSeconds: 2 });
  const registry = new ServiceRegistry(backend === undefined ? {} : { backend });
  const port = flag('--port');
  const [ca, cert, key] = ['--tls-ca', '--tls-cert', '--tls-key'].map(flag);
  const tls =
    ca === undefined || cert === undefined || key === undefined
      ? undefined
      : { ca: readFileSync(ca), cert: readFileSync(cert), key: readFileSync(key) };
  const service = await STARTERS[kind]({
    tls,
    registry,
    host: flag('--host') ?? '127.0.0.1',
    port: port === undefined ? 0 : Number(port),
    serviceId: `${kind}-service-${process.pid}`,
    ...(tracing === undefined ? {} : { interceptors: [tracingServerInterceptor()] }),
  });
  const withParent = args.includes('--exit-with-parent');
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    if (withParent) process.stdin.destroy();
    void service
      .shutdown()
      .then(() => registry.close())
      .then(() => tracing?.shutdown());
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // A parent that goes away (even by SIGKILL) closes our stdout pipe and its end of stdin.
  process.stdout.on('error', stop);
  if (withParent) process.stdin.on('end', stop).on('error', stop).resume();
  process.stdout.write(`READY ${kind} ${service.address} ${service.serviceId}\n`);
}
