/**
 * `pnpm demo`: the five example services and the conversation orchestrator on 127.0.0.1, a few
 * conversations, then a TTS outage (breaker opening, fast CIRCUIT_OPEN failures, the saga
 * compensating) and its recovery. `pnpm demo --etcd`: the same with each service in a process of
 * its own, found by name through a private etcd.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ClientTarget, ServiceKind } from '@clone/grpc-proto';
import { type RegistryBackend, ServiceRegistry } from '@clone/service-discovery';
import { ServiceError } from '@clone/service-errors';
import { decodeSpeech, durationMs, encodeSpeech } from './lib/speech-codec';
import { ConversationOrchestrator, type ConversationOrchestrator as Orchestrator } from './orchestrator';
import { DEMO_JWT_SECRET, type RunningService, STARTERS } from './services/index';

const KINDS: readonly ServiceKind[] = ['asr', 'rag', 'llm', 'tts', 'lipsync'];
const ETCD = process.argv.includes('--etcd');
const JWT_SECRET = process.env.JWT_SECRET ?? DEMO_JWT_SECRET;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

// ---------------------------------------------------------------------------------------------
// Output: plain text unless stdout is a terminal.
const COLOR = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
const paint =
  (code: number) =>
  (s: string): string =>
    COLOR ? `\x1b[${code}m${s}\x1b[0m` : s;
const dim = paint(2);
const bold = paint(1);
const red = paint(31);
const green = paint(32);
const yellow = paint(33);
const cyan = paint(36);
const t0 = performance.now();
const ms = (n: number): string =>
  Number.isInteger(n)
    ? n === 0
      ? '<1 ms'
      : `${n} ms`
    : n < 10
      ? `${n.toFixed(2)} ms`
      : `${Math.round(n)} ms`;
/** grpc-js details end with an empty "Resolution note:"; keep the lines short. */
const brief = (message: string): string => message.replace(/\s*Resolution note:\s*/g, ' ').trim();
const log = (line = ''): void => {
  const stamp = `+${((performance.now() - t0) / 1000).toFixed(3)}s`.padStart(8);
  console.log(`${dim(stamp)} ${line}`);
};
const heading = (title: string): void => {
  console.log('');
  log(bold(`== ${title} ==`));
};

// ---------------------------------------------------------------------------------------------
// Demo settings: small thresholds and short delays so the whole show takes a few seconds.
const SETTINGS = {
  healthCheckIntervalMs: 500,
  circuitBreaker: { failureThreshold: 3, successThreshold: 1, timeout: 2_000, resetTimeoutMs: 1_500 },
  retry: { maxAttempts: 3, initialDelayMs: 50, maxDelayMs: 200, backoffMultiplier: 2 },
  client: {
    defaultDeadlineMs: 5_000,
    // Reconnect quickly to a restarted service (grpc-js backs off up to 120 s by default).
    channelOptions: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 500 },
  },
};

const UTTERANCES = [
  'Where did you grow up?',
  'What is your favourite food?',
  'Do you have a cat?',
  'What do you build at work?',
  'What do you do on weekends?',
  'Tell me about your cat again.',
];

/** What an interrupt (Ctrl-C, SIGTERM) must undo: registered as soon as there is something to undo. */
const onInterrupt = new Set<() => Promise<unknown>>();

/** A problem with the machine, not the demo: reported without a stack trace. */
class SetupError extends Error {}

/** How the services run: in this process, or as child processes registered in etcd. */
interface Deployment {
  describe: string;
  endpoints: Partial<Record<ServiceKind, ClientTarget>>;
  registry?: ServiceRegistry;
  discoveryBackend?: RegistryBackend;
  /** Waits until the orchestrator's registry sees every service. */
  ready(orchestrator: Orchestrator): Promise<void>;
  /** Makes a service die the way a process does. */
  crash(kind: ServiceKind): Promise<void>;
  /** Brings it back. */
  restart(kind: ServiceKind): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// In-process deployment (default): one shared in-memory registry, explicit endpoints as in the seed.
async function inProcess(): Promise<Deployment> {
  const registry = new ServiceRegistry({ healthCheckIntervalMs: SETTINGS.healthCheckIntervalMs });
  const services = new Map<ServiceKind, RunningService>();
  const start = async (kind: ServiceKind, port?: number): Promise<void> => {
    const service = await STARTERS[kind]({ registry, port, auth: { jwtSecret: JWT_SECRET } });
    services.set(kind, service);
    log(`${kind.padEnd(8)} listening on ${service.address}, registered as ${service.serviceId}`);
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
async function withEtcd(): Promise<Deployment> {
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
  const children = new Map<ServiceKind, ChildProcess>();
  const undo = async (): Promise<void> => {
    await Promise.all([...children.values()].map((c) => stop(c, 'SIGTERM')));
    await etcd.stop();
  };
  onInterrupt.add(undo);
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
        // The child stops by itself when our end of its stdin closes: it never outlives us.
        '--exit-with-parent',
      ],
      { cwd: ROOT, env: { ...process.env, JWT_SECRET }, stdio: ['pipe', 'pipe', 'inherit'] },
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
    log(`${kind.padEnd(8)} pid ${child.pid} listening on ${address}, registered in etcd as ${serviceId}`);
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
    discoveryBackend: new EtcdBackend({ hosts: etcd.endpoint, ttlSeconds: 2 }),
    async ready(orchestrator) {
      const registry = orchestrator.comm.getServiceRegistry();
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

// ---------------------------------------------------------------------------------------------
/** Wires the live view to the manager's and the orchestrator's events. */
function liveView(orchestrator: Orchestrator, counters: Map<string, number>): void {
  const count = (key: string): void => {
    counters.set(key, (counters.get(key) ?? 0) + 1);
  };
  const comm = orchestrator.comm;
  orchestrator.on('attempt', (e) => {
    count(`${e.service}:attempts`);
    const what = `${e.service}.${e.method} attempt ${e.attempt}`;
    if (e.error === undefined) log(`   ${dim('·')} ${what}: ok in ${ms(e.durationMs)}`);
    else
      log(`   ${red('·')} ${what}: ${red(e.error.code)} in ${ms(e.durationMs)} (${brief(e.error.message)})`);
  });
  comm.on('retry', (e) =>
    log(
      `   ${yellow('↻')} retry ${e.service}: attempt ${e.attempt} failed (${e.error.code}), next in ${e.delayMs} ms`,
    ),
  );
  comm.on('circuitStateChange', (e) => {
    count(`${e.service}:${e.to}`);
    const to = e.to === 'OPEN' ? red(e.to) : e.to === 'CLOSED' ? green(e.to) : yellow(e.to);
    log(`   ${bold('⚡')} circuit ${e.service}: ${e.from} → ${to} (${e.reason})`);
  });
  comm.on('circuitRejected', (e) => {
    count(`${e.service}:rejected`);
    log(`   ${red('⊘')} ${e.service} call refused by the open circuit, never sent (${e.error.code})`);
  });
  comm.on('callSucceeded', (e) => {
    if (e.attempts > 1)
      log(`   ${green('✓')} ${e.service}: succeeded in ${ms(e.durationMs)} after ${e.attempts} attempts`);
  });
  comm.on('callFailed', (e) => {
    const how = e.error.code === 'CIRCUIT_OPEN' ? 'refused' : `failed after ${e.attempts} attempt(s)`;
    log(`   ${red('✗')} ${e.service}: ${how} in ${ms(e.durationMs)}: ${e.error.code}`);
    if (e.error.code === 'CIRCUIT_OPEN' && e.durationMs < 50) count(`${e.service}:fast-failures`);
  });
  comm.on('healthChanged', (e) => {
    const to =
      e.current === 'healthy' ? green(e.current) : e.current === 'unhealthy' ? red(e.current) : e.current;
    log(`   ${cyan('♥')} health ${e.serviceId}: ${e.previous} → ${to}`);
  });
  const registry = comm.getServiceRegistry();
  registry.on('registered', (e) => {
    if (!e.local)
      log(
        `   ${cyan('+')} registry: ${e.instance.serviceId} joined at ${e.instance.host}:${e.instance.port}`,
      );
  });
  registry.on('deregistered', (e) => log(`   ${cyan('-')} registry: ${e.instance.serviceId} left`));
  orchestrator.on('step', (e) => {
    const mark = e.ok ? green('✓') : red('✗');
    log(` ${mark} step ${e.step} (${ms(e.durationMs)}): ${brief(e.detail)}`);
  });
  orchestrator.on('compensation', (e) => log(` ${yellow('↩')} compensated ${e.step}: ${e.detail}`));
}

async function converse(orchestrator: Orchestrator, n: number, text: string): Promise<boolean> {
  const sessionId = `session-${n}`;
  heading(`Conversation ${n} (${sessionId}): the user says "${text}"`);
  const audio = encodeSpeech(text);
  log(`user audio: ${audio.length} bytes of PCM16, ${ms(durationMs(audio))} of speech`);
  const { saga, frames } = await orchestrator.converse({ userId: 'user-123', sessionId, audio });
  if (saga.success) {
    const reply = saga.context.llmResponse ?? '';
    const heard = decodeSpeech(saga.context.audioData ?? Buffer.alloc(0));
    log(green(`saga completed in ${ms(saga.durationMs)}: ${saga.completedSteps.join(' → ')}`));
    log(`clone replies: "${reply}"`);
    log(
      `reply audio decodes back to the reply: ${heard === reply ? 'yes' : `NO ("${heard}")`}; avatar: ${frames} lip-sync frames`,
    );
  } else {
    log(red(`saga failed at ${saga.failedStep} (${saga.error?.code}) after ${ms(saga.durationMs)}`));
    log(`compensated steps, in order: ${saga.compensatedSteps.join(', ') || '(none)'}`);
    if (saga.compensationErrors.length > 0)
      log(
        red(
          `compensation errors: ${saga.compensationErrors.map((c) => `${c.step}: ${c.error.code}`).join(', ')}`,
        ),
      );
  }
  return saga.success;
}

async function main(): Promise<void> {
  heading(`Starting the example services (${ETCD ? 'etcd mode' : 'in-memory mode'})`);
  const deployment = ETCD ? await withEtcd() : await inProcess();
  let orchestrator: Orchestrator | undefined;
  onInterrupt.add(async () => {
    await orchestrator?.close();
    await deployment.close();
  });
  try {
    log(deployment.describe);
    orchestrator = new ConversationOrchestrator({
      jwtSecret: JWT_SECRET,
      endpoints: deployment.endpoints,
      registry: deployment.registry,
      discoveryBackend: deployment.discoveryBackend,
      ...SETTINGS,
    });
    const counters = new Map<string, number>();
    liveView(orchestrator, counters);
    await deployment.ready(orchestrator);
    orchestrator.comm.startHealthChecks();
    log(
      `orchestrator websocket-server-1: breaker ${JSON.stringify(SETTINGS.circuitBreaker)}, retry ${JSON.stringify(SETTINGS.retry)}`,
    );

    let n = 0;
    let failures = 0;
    for (const text of UTTERANCES.slice(0, 3)) if (!(await converse(orchestrator, ++n, text))) failures++;

    heading('Failure: the TTS service dies');
    await deployment.crash('tts');
    const attemptsBefore = counters.get('tts:attempts') ?? 0;
    // First conversation: the calls reach the dead service, are retried, and open the circuit.
    const outage1 = await converse(orchestrator, ++n, UTTERANCES[3]!);
    // Second: the open circuit refuses at once; nothing is sent.
    const outage2 = await converse(orchestrator, ++n, UTTERANCES[4]!);
    const sent = (counters.get('tts:attempts') ?? 0) - attemptsBefore;
    // Meanwhile the registry's health checks (a fresh connection each) find the instance down.
    const registry = orchestrator.comm.getServiceRegistry();
    const until = Date.now() + 8_000;
    while (registry.getHealthyInstances('tts').length > 0 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    if (registry.getHealthyInstances('tts').length === 0)
      log('registry: no healthy tts instance left (health checks / lease expiry)');
    heading('Outage summary');
    log(`tts attempts made during the outage (each sent to the dead service): ${sent}`);
    log(`tts calls refused by the open circuit without a network call: ${counters.get('tts:rejected') ?? 0}`);
    const tts = orchestrator.comm.getCircuitStats().tts;
    log(
      `tts circuit: ${tts?.state}, ${tts?.totalFailures} failures and ${tts?.totalRejections} rejection(s) in all`,
    );
    if (outage1 || outage2) throw new Error('a conversation succeeded while TTS was down');

    heading('Recovery: TTS comes back');
    await deployment.restart('tts');
    const back = Date.now() + 10_000;
    while (registry.getHealthyInstances('tts').length === 0 && Date.now() < back)
      await new Promise((r) => setTimeout(r, 50));
    const wait = Math.max(0, (orchestrator.comm.getCircuitStats().tts?.nextAttemptTime ?? 0) - Date.now());
    log(`waiting ${wait} ms for the reset timeout, after which the next call may probe the circuit`);
    await new Promise((r) => setTimeout(r, wait + 50));
    if (!(await converse(orchestrator, ++n, UTTERANCES[5]!))) failures++;

    heading('Done');
    log(`${n - 2 - failures} of ${n - 2} conversations completed outside the outage; circuits:`);
    for (const [service, stats] of Object.entries(orchestrator.comm.getCircuitStats()))
      log(`  ${service.padEnd(8)} ${stats.state}`);
    if (failures > 0) throw new Error(`${failures} conversation(s) failed outside the outage`);
  } finally {
    await orchestrator?.close();
    await deployment.close();
    log('everything closed');
  }
}

let interrupted = false;
// Ctrl-C or SIGTERM: stop the services (child processes and etcd included) before going.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`${signal}: closing everything`);
    void Promise.allSettled([...onInterrupt].map((fn) => fn())).then(() =>
      process.exit(signal === 'SIGINT' ? 130 : 143),
    );
  });
}

main().catch((error: unknown) => {
  if (interrupted) return; // what failed was cut short by the interrupt, which sets the exit code
  const e =
    error instanceof SetupError
      ? error.message
      : error instanceof ServiceError
        ? `${error.code}: ${error.message}`
        : String((error as Error)?.stack ?? error);
  console.error(`demo failed: ${e}`);
  process.exitCode = 1;
});
