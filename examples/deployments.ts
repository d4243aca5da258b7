/**
 * How `pnpm demo` runs the five services: in its own process with an in-memory registry
 * (default), or each in a child process registered in a private etcd (`--etcd`); either over
 * plaintext or mutual TLS (`--tls`). With `tracing`, every service traces the calls it serves
 * (a SERVER span per call) into the run's span directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ClientTarget, ServiceKind } from '@clone/grpc-proto';
import { ServiceRegistry } from '@clone/service-discovery';
import { tracingServerInterceptor } from '@clone/telemetry/grpc';
import { log } from './demo-output';
import type { DemoTls } from './mutual-tls';
import type { ConversationOrchestrator } from './orchestrator';
import { type RunningService, STARTERS } from './services/index';
import type { DemoTracing } from './tracing/demo-tracing';

const KINDS: readonly ServiceKind[] = ['asr', 'rag', 'llm', 'tts', 'lipsync'];
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A problem with the machine, not the demo: reported without a stack trace. */
export class SetupError extends Error {}

/** What a deployment needs from the demo. */
export interface DeploymentOptions {
  jwtSecret: string;
  healthCheckIntervalMs: number;
  /** Serve (and health-check) mutual TLS; default plaintext. */
  tls?: DemoTls | undefined;
  /** What an interrupt (Ctrl-C, SIGTERM) must undo: add to it as soon as there is something to undo. */
  onInterrupt: Set<() => Promise<unknown>>;
  /**
   * The run's tracing: in-process services trace through a provider of their own (named
   * `<kind>-service`), child processes register the SDK themselves (`--trace-dir`). Default: none.
   */
  tracing?: DemoTracing | undefined;
}

/** How the services run: in this process, or as child processes registered in etcd. */
export interface Deployment {
  describe: string;
  endpoints: Partial<Record<ServiceKind, ClientTarget>>;
  /** The orchestrator's registry (owned by the deployment, closed by `close()`). */
  registry: ServiceRegistry;
  /** Waits until the orchestrator's registry sees every service. */
  ready(orchestrator: ConversationOrchestrator): Promise<void>;
  /** Makes a service die the way a process does. */
  crash(kind: ServiceKind): Promise<void>;
  /** Brings it back. */
  restart(kind: ServiceKind): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// In-process deployment (default): one shared in-memory registry, explicit endpoints as in the seed.
export async function inProcess(options: DeploymentOptions): Promise<Deployment> {
  const { tls } = options;
  const registry = new ServiceRegistry({
    healthCheckIntervalMs: options.healthCheckIntervalMs,
    grpcCredentials: tls?.healthCheckCredentials,
  });
  const services = new Map<ServiceKind, RunningService>();
  // One server interceptor per service, kept across restarts.
  const tracing = new Map(
    KINDS.map((kind) => [
      kind,
      options.tracing === undefined
        ? undefined
        : [tracingServerInterceptor({ tracerProvider: options.tracing.providerFor(`${kind}-service`) })],
    ]),
  );
  const start = async (kind: ServiceKind, port?: number): Promise<void> => {
    const service = await STARTERS[kind]({
      registry,
      port,
      auth: { jwtSecret: options.jwtSecret },
      tls: tls?.server(kind),
      interceptors: tracing.get(kind),
    });
    services.set(kind, service);
    log(
      `${kind.padEnd(8)} listening on ${service.address}${tls ? ' (mTLS)' : ''}, registered as ${service.serviceId}`,
    );
  };
  try {
    for (const kind of KINDS) await start(kind);
  } catch (error) {
    for (const s of services.values()) await s.shutdown();
    await registry.close();
    throw error;
  }
  const endpoints: Partial<Record<ServiceKind, ClientTarget>> = {};
  for (const [kind, s] of services) endpoints[kind] = { host: s.host, port: s.port };
  return {
    describe: 'in-process services, in-memory registry, explicit endpoints',
    endpoints,
    registry,
    async ready() {},
    async crash(kind) {
      services.get(kind)?.crash();
      log(`${kind} server stopped at once and left registered, as when a process dies`);
    },
    async restart(kind) {
      const old = services.get(kind);
      await old?.shutdown();
      await start(kind, old?.port);
    },
    async close() {
      for (const s of services.values()) await s.shutdown();
      await registry.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// etcd deployment: a private etcd, each service a child process registering itself in it.
export async function withEtcd(options: DeploymentOptions): Promise<Deployment> {
  const { tls, onInterrupt } = options;
  const { startEtcd } = await import('@clone/test-servers');
  const { EtcdBackend } = await import('@clone/service-discovery/etcd');
  let etcd: Awaited<ReturnType<typeof startEtcd>>;
  const starting = startEtcd();
  // Interrupted while etcd starts: wait for it, then remove it and its data directory.
  const stopStarting = async (): Promise<void> => (await starting.catch(() => undefined))?.stop();
  onInterrupt.add(stopStarting);
  try {
    etcd = await starting;
  } catch (error) {
    throw new SetupError(
      `pnpm demo --etcd: ${(error as Error).message}; or run \`pnpm demo\` without --etcd.`,
    );
  } finally {
    onInterrupt.delete(stopStarting);
  }
  log(`etcd     listening on ${etcd.endpoint} (private, temporary data directory)`);
  // The orchestrator's view of etcd. Made here rather than by the manager so that its health
  // checks can be given the TLS client credentials.
  const registry = new ServiceRegistry({
    backend: new EtcdBackend({ hosts: etcd.endpoint, ttlSeconds: 2 }),
    healthCheckIntervalMs: options.healthCheckIntervalMs,
    grpcCredentials: tls?.healthCheckCredentials,
  });
  const children = new Map<ServiceKind, ChildProcess>();
  const undo = async (): Promise<void> => {
    await Promise.all([...children.values()].map((c) => stop(c, 'SIGTERM')));
    await registry.close();
    await etcd.stop();
  };
  onInterrupt.add(undo);
  const tlsArgs = (kind: ServiceKind): string[] => {
    if (tls === undefined) return [];
    const files = tls.serverFiles(kind);
    return ['--tls-ca', files.ca, '--tls-cert', files.cert, '--tls-key', files.key];
  };
  const spawnService = async (kind: ServiceKind): Promise<void> => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@clone/source',
        join(ROOT, 'examples/services/run.ts'),
        kind,
        '--etcd',
        etcd.endpoint,
        ...tlsArgs(kind),
        ...(options.tracing === undefined ? [] : ['--trace-dir', options.tracing.dir]),
        // The child stops by itself when our end of its stdin closes: it never outlives us.
        '--exit-with-parent',
      ],
      {
        cwd: ROOT,
        env: { ...process.env, JWT_SECRET: options.jwtSecret },
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    children.set(kind, child);
    const lines = createInterface({ input: child.stdout! });
    const ready = new Promise<string>((resolve, reject) => {
      lines.on('line', (line) => {
        if (line.startsWith('READY ')) resolve(line);
      });
      child.once('exit', (code, signal) => reject(new Error(`${kind} exited early (${code ?? signal})`)));
    });
    const line = await ready;
    const [, , address, serviceId] = line.split(' ');
    log(
      `${kind.padEnd(8)} pid ${child.pid} listening on ${address}${tls ? ' (mTLS)' : ''}, registered in etcd as ${serviceId}`,
    );
  };
  const stop = async (child: ChildProcess, signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  };
  // Whatever happens to this process, its children do not outlive it (etcd is tracked by startEtcd).
  process.once('exit', () => {
    for (const c of children.values()) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  const close = async (): Promise<void> => {
    onInterrupt.delete(undo);
    await undo();
  };
  try {
    await Promise.all(KINDS.map(spawnService));
  } catch (error) {
    await close();
    throw error;
  }
  return {
    describe: 'one process per service, registry in etcd, clients find services by name (clone:///<name>)',
    endpoints: {},
    registry,
    async ready() {
      const missing = (): ServiceKind[] => KINDS.filter((k) => registry.getHealthyInstances(k).length === 0);
      const deadline = Date.now() + 10_000;
      while (missing().length > 0) {
        if (Date.now() > deadline) throw new Error(`not discovered through etcd: ${missing().join(', ')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      log(`discovered through etcd: ${KINDS.map((k) => registry.getInstances(k)[0]?.serviceId).join(', ')}`);
    },
    async crash(kind) {
      const child = children.get(kind);
      if (child !== undefined) await stop(child, 'SIGKILL');
      log(`${kind} process killed with SIGKILL (its etcd lease expires within its 2 s TTL)`);
    },
    async restart(kind) {
      await spawnService(kind);
    },
    close,
  };
}
