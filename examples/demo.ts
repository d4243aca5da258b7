/**
 * `pnpm demo`: the five example services and the conversation orchestrator on 127.0.0.1, a few
 * conversations, then a TTS outage (breaker opening, fast CIRCUIT_OPEN failures, the saga
 * compensating) and its recovery. `pnpm demo --etcd`: the same with each service in a process of
 * its own, found by name through a private etcd. `--tls` (with either): every hop over mutual
 * TLS, with certificates made at start. Each conversation's saga publishes `conversation.completed`
 * or `conversation.failed` on the event bus and an analytics subscriber counts them, in memory;
 * `--rabbitmq` (with any): through a private RabbitMQ broker, stopped and restarted mid-run.
 * `--distributed` (implies a private RabbitMQ): the design document's sample-processing saga
 * across three processes instead (examples/distributed-demo.ts).
 *
 * Next to the orchestrator run the live dashboard (`/metrics` too) and the gateway front, whose
 * URLs are printed before the first conversation. Every process traces through the OpenTelemetry
 * SDK into a temporary directory, and the first conversation's trace is printed as a tree
 * (conversation → saga → step → call → attempt → server, one trace id across processes).
 * `--serve`: after the show, keep everything running until Ctrl-C or SIGTERM, then close it all.
 */
import { ServiceError } from '@clone/service-errors';
import { type DemoEvents, startEvents } from './demo-events';
import { bold, brief, cyan, dim, green, heading, log, ms, red, yellow } from './demo-output';
import { printConversationTrace } from './demo-trace';
import { type DemoViews, startViews } from './demo-views';
import { type Deployment, inProcess, SetupError, withEtcd } from './deployments';
import { runDistributedDemo } from './distributed-demo';
import { decodeSpeech, durationMs, encodeSpeech } from './lib/speech-codec';
import { type DemoTls, demoTls } from './mutual-tls';
import { ConversationOrchestrator, type ConversationOrchestrator as Orchestrator } from './orchestrator';
import { DEMO_JWT_SECRET } from './services/index';
import { type DemoTracing, makeTraceDir, removeTraceDir, startTracing } from './tracing/demo-tracing';

const ETCD = process.argv.includes('--etcd');
const TLS = process.argv.includes('--tls');
const DISTRIBUTED = process.argv.includes('--distributed');
const RABBITMQ = DISTRIBUTED || process.argv.includes('--rabbitmq');
const SERVE = process.argv.includes('--serve');
const JWT_SECRET = process.env.JWT_SECRET ?? DEMO_JWT_SECRET;

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
/** Set while `--serve` waits: a signal then ends the wait, and the demo closes as after a run. */
let stopServing: (() => void) | undefined;

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

/** Makes the mutual-TLS certificates, or says why it cannot. */
async function startTls(): Promise<DemoTls> {
  try {
    return await demoTls();
  } catch (error) {
    throw new SetupError(`pnpm demo --tls: ${(error as Error).message}; or run \`pnpm demo\` without --tls.`);
  }
}

/** Says what the transport is, and shows a service refusing callers TLS does not admit. */
async function showMutualTls(tls: DemoTls, deployment: Deployment): Promise<void> {
  heading('Transport: mutual TLS on every hop');
  log(`certificates made at start with openssl in ${tls.dir}: a private CA,`);
  log(
    'one certificate per service (its name, localhost, 127.0.0.1), one for the orchestrator (CN=websocket-server)',
  );
  log("the orchestrator checks each service's certificate and name; each service accepts only callers");
  log("with a certificate of that CA (the registry's health checks present the orchestrator's)");
  const asr = deployment.registry.getInstances('asr')[0];
  if (asr === undefined) throw new Error('no asr instance to probe');
  for (const { caller, refusal } of await tls.probeRefusals({ host: asr.host, port: asr.port })) {
    if (refusal === 'NOT REFUSED') throw new Error(`asr accepted ${caller}`);
    log(`   ${green('✓')} asr refuses ${caller}: ${refusal}`);
  }
}

async function main(): Promise<void> {
  if (DISTRIBUTED) return runDistributedDemo(onInterrupt);
  const tls = TLS ? await startTls() : undefined;
  try {
    await run(tls);
  } finally {
    if (tls !== undefined) {
      tls.remove();
      log(`certificates removed (${tls.dir})`);
    }
  }
}

async function run(tls: DemoTls | undefined): Promise<void> {
  heading(
    `Starting the example services (${ETCD ? 'etcd mode' : 'in-memory mode'}${tls === undefined ? '' : ', mutual TLS'}${RABBITMQ ? ', RabbitMQ' : ''})`,
  );
  // The SDK before anything is instrumented: instrumentation decides once whether one is there.
  const dir = makeTraceDir();
  const tracing = startTracing({ serviceName: 'websocket-server', dir });
  const removeTraces = async (): Promise<void> => removeTraceDir(dir);
  onInterrupt.add(removeTraces);
  log(`tracing: OpenTelemetry SDK in every process, spans as JSON lines in ${dir}`);
  try {
    const events = await startEvents({ rabbitmq: RABBITMQ, onInterrupt });
    try {
      await withServices(tls, events, tracing);
    } finally {
      await events.close();
    }
  } finally {
    await tracing.shutdown();
    onInterrupt.delete(removeTraces);
    await removeTraces();
  }
}

/** `--serve`: waits for Ctrl-C or SIGTERM, the views still up. */
async function serve(views: DemoViews): Promise<void> {
  views.print();
  heading('Serving: open the dashboard, curl the gateway; Ctrl-C or SIGTERM stops everything');
  await new Promise<void>((resolve) => {
    stopServing = resolve;
  });
}

async function withServices(
  tls: DemoTls | undefined,
  events: DemoEvents,
  tracing: DemoTracing,
): Promise<void> {
  const options = {
    jwtSecret: JWT_SECRET,
    healthCheckIntervalMs: SETTINGS.healthCheckIntervalMs,
    tls,
    onInterrupt,
    tracing,
  };
  const deployment = ETCD ? await withEtcd(options) : await inProcess(options);
  let orchestrator: Orchestrator | undefined;
  let views: DemoViews | undefined;
  onInterrupt.add(async () => {
    await views?.close();
    await orchestrator?.close();
    await deployment.close();
  });
  try {
    log(deployment.describe);
    orchestrator = new ConversationOrchestrator({
      jwtSecret: JWT_SECRET,
      endpoints: deployment.endpoints,
      registry: deployment.registry,
      ...SETTINGS,
      client: { ...SETTINGS.client, ...(tls === undefined ? {} : { credentials: tls.client }) },
      publisher: events.publisher,
    });
    const counters = new Map<string, number>();
    liveView(orchestrator, counters);
    await deployment.ready(orchestrator);
    if (tls !== undefined) await showMutualTls(tls, deployment);
    orchestrator.comm.startHealthChecks();
    log(
      `orchestrator websocket-server-1: breaker ${JSON.stringify(SETTINGS.circuitBreaker)}, retry ${JSON.stringify(SETTINGS.retry)}`,
    );
    views = await startViews({
      orchestrator,
      deployment,
      jwtSecret: JWT_SECRET,
      eventBus: events.bus,
      healthCheckIntervalMs: SETTINGS.healthCheckIntervalMs,
    });

    let n = 0;
    let failures = 0;
    if (!(await converse(orchestrator, ++n, UTTERANCES[0]!))) failures++;
    await printConversationTrace(tracing.dir, 'session-1');
    // --rabbitmq: the broker stops once the analytics queue has carried an event, and comes back
    // after two more conversations, whose events wait in the publisher's buffer meanwhile.
    await events.stopBroker();
    for (const text of UTTERANCES.slice(1, 3)) if (!(await converse(orchestrator, ++n, text))) failures++;
    await events.restartBroker();

    heading('Failure: the TTS service dies (watch its tile on the dashboard)');
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
    // The first outage conversation's trace: each retry an attempt span of its own, and the
    // compensations with their calls (server spans: asr, rag, llm, and rag's ClearCache).
    await printConversationTrace(tracing.dir, `session-${n - 1}`, 4);

    heading('Recovery: TTS comes back');
    await deployment.restart('tts');
    const back = Date.now() + 10_000;
    while (registry.getHealthyInstances('tts').length === 0 && Date.now() < back)
      await new Promise((r) => setTimeout(r, 50));
    const wait = Math.max(0, (orchestrator.comm.getCircuitStats().tts?.nextAttemptTime ?? 0) - Date.now());
    log(`waiting ${wait} ms for the reset timeout, after which the next call may probe the circuit`);
    await new Promise((r) => setTimeout(r, wait + 50));
    if (!(await converse(orchestrator, ++n, UTTERANCES[5]!))) failures++;
    // Two conversations failed during the TTS outage, `failures` others.
    await events.summary({ completed: n - 2 - failures, failed: 2 + failures });

    heading('Done');
    log(`${n - 2 - failures} of ${n - 2} conversations completed outside the outage; circuits:`);
    for (const [service, stats] of Object.entries(orchestrator.comm.getCircuitStats()))
      log(`  ${service.padEnd(8)} ${stats.state}`);
    if (failures > 0) throw new Error(`${failures} conversation(s) failed outside the outage`);
    if (SERVE) await serve(views);
  } finally {
    await views?.close();
    await orchestrator?.close();
    await deployment.close();
    log('everything closed');
  }
}

let interrupted = false;
// Ctrl-C or SIGTERM: stop the services (child processes and etcd included) before going.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (stopServing !== undefined) {
      // --serve, the show over: close everything the way a run ends, and exit 0.
      console.error(`${signal}: closing everything`);
      stopServing();
      stopServing = undefined;
      return;
    }
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
