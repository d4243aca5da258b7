import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `pnpm demo [args]` without pnpm: the same command the root script runs, as a child process.
 * Without `RABBITMQ_URL`, so that the default mode's event bus is the in-memory one.
 */
function runDemo(args: string[] = [], timeoutMs = 85_000): Promise<Run> {
  const { RABBITMQ_URL: _ignored, ...env } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--conditions=@clone/source', join(ROOT, 'examples/demo.ts'), ...args],
      { cwd: ROOT, timeout: timeoutMs, env: { ...env, NO_COLOR: '1' }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const REPLIES = [
  'I grew up in Lisbon and moved to Berlin to work on distributed systems. Anything else you would like to know?',
  'My favourite food is grilled sardines with a glass of vinho verde. Anything else you would like to know?',
  'I have a grey cat called Paxos who ignores every leader election. Anything else you would like to know?',
];

function expectTheShow(run: Run): void {
  const out = run.stdout;
  expect(run.code, `${out}\n${run.stderr}`).toBe(0);
  // Plain text when stdout is not a terminal.
  expect(out).not.toContain('\x1b[');
  // The conversations before the outage complete with the deterministic replies, audio and all.
  for (const reply of REPLIES) expect(out).toContain(`clone replies: "${reply}"`);
  expect(out.match(/saga completed in/g)).toHaveLength(4);
  expect(out.match(/reply audio decodes back to the reply: yes/g)).toHaveLength(4);
  // TTS dies: its calls are retried, then the circuit opens.
  expect(out).toMatch(/tts\.Synthesize attempt 3: SERVICE_UNAVAILABLE/);
  expect(out).toMatch(/retry tts: attempt 1 failed \(SERVICE_UNAVAILABLE\)/);
  expect(out).toMatch(/circuit tts: CLOSED → OPEN/);
  // The next call fails fast without reaching the network.
  expect(out).toContain('tts call refused by the open circuit, never sent (CIRCUIT_OPEN)');
  expect(out).toContain('tts attempts made during the outage (each sent to the dead service): 3');
  expect(out).toContain('tts calls refused by the open circuit without a network call: 1');
  // Both failed sagas compensate the completed steps in reverse order, with a real ClearCache.
  expect(out.match(/saga failed at synthesize-speech/g)).toHaveLength(2);
  expect(
    out.match(/compensated steps, in order: generate-response, retrieve-context, transcribe-audio/g),
  ).toHaveLength(2);
  expect(out.match(/compensated retrieve-context: rag\.ClearCache → cleared=true/g)).toHaveLength(2);
  // TTS comes back: the probe closes the circuit and the conversation completes.
  expect(out).toMatch(/circuit tts: OPEN → HALF_OPEN/);
  expect(out).toMatch(/circuit tts: HALF_OPEN → CLOSED/);
  expect(out).toContain('4 of 4 conversations completed outside the outage');
  expectTheEvents(run);
  expect(out).toContain('everything closed');
}

const occurrences = (text: string, part: string): number => text.split(part).length - 1;

/** Each saga published its event, and analytics counted each event once: 4 completed, 2 failed. */
function expectTheEvents(run: Run): void {
  const out = run.stdout;
  for (const [session, type] of [
    [1, 'completed'],
    [2, 'completed'],
    [3, 'completed'],
    [4, 'failed'],
    [5, 'failed'],
    [6, 'completed'],
  ] as const) {
    const event = `conversation.${type} (session-${session})`;
    expect(occurrences(out, `websocket-server published ${event}: confirmed`)).toBe(1);
    expect(occurrences(out, `analytics-service counted ${event}`)).toBe(1);
  }
  expect(out).toContain('sagas ended:                 4 completed, 2 failed');
  expect(out).toContain('published and confirmed:     4 conversation.completed, 2 conversation.failed');
  expect(out).toContain(
    'counted by analytics-service: 4 conversation.completed, 2 conversation.failed (failed at synthesize-speech ×2)',
  );
  expect(out).toMatch(/lost: 0; duplicates absorbed by the analytics-service inbox: \d+/);
  expect(out).toContain('every saga published its event, and analytics counted each one once');
}

describe('pnpm demo', () => {
  it('runs the conversations, the TTS outage and the recovery in one process, and exits 0 by itself', async () => {
    const run = await runDemo();
    expectTheShow(run);
    expect(run.stdout).toContain('in-process services, in-memory registry');
    expect(run.stdout).toContain('event bus: in memory');
    expect(run.stdout).toMatch(/health tts-service-1: healthy → unhealthy/);
  }, 90_000);

  it('--etcd: services in their own processes, discovered by name through etcd', async () => {
    const run = await runDemo(['--etcd']);
    expectTheShow(run);
    expect(run.stdout).toMatch(/etcd {5}listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(run.stdout).toMatch(/discovered through etcd: asr-service-\d+, rag-service-\d+/);
    expect(run.stdout).toMatch(/registry: tts-service-\d+ joined/);
  }, 90_000);

  /** What `--tls` adds to the show: every hop over mutual TLS, and callers TLS does not admit refused. */
  function expectMutualTls(run: Run, services: number): void {
    const out = run.stdout;
    expect(out).toContain('== Transport: mutual TLS on every hop ==');
    // Every service served mTLS, the restarted TTS too.
    expect(out.match(/listening on 127\.0\.0\.1:\d+ \(mTLS\)/g)).toHaveLength(services);
    expect(out).toContain(
      'asr refuses a client without a certificate: SERVICE_UNAVAILABLE (certificate required)',
    );
    expect(out).toContain('asr refuses a client whose certificate another CA signed: SERVICE_UNAVAILABLE');
    // The orchestrator's own health checks present its certificate and find the services healthy.
    expect(out).toMatch(/health asr-service-\d+: unknown → healthy/);
    // The certificates were made in a temporary directory, which is gone after the run.
    const dir = /certificates removed \((\S+)\)/.exec(out)?.[1];
    expect(dir).toMatch(/clone-certs-/);
    expect(existsSync(dir!)).toBe(false);
  }

  it('--tls: the same conversations over mutual TLS, with certificates made at start', async () => {
    const run = await runDemo(['--tls']);
    expectTheShow(run);
    expect(run.stdout).toContain('Starting the example services (in-memory mode, mutual TLS)');
    expectMutualTls(run, 6);
    expect(run.stdout).toMatch(/health tts-service-1: healthy → unhealthy/);
  }, 90_000);

  it('--etcd --tls: services in their own processes, serving mutual TLS, discovered through etcd', async () => {
    const run = await runDemo(['--etcd', '--tls']);
    expectTheShow(run);
    expect(run.stdout).toContain('Starting the example services (etcd mode, mutual TLS)');
    expectMutualTls(run, 6);
    expect(run.stdout).toMatch(/discovered through etcd: asr-service-\d+, rag-service-\d+/);
  }, 90_000);

  it('--rabbitmq: the events go through a private broker, stopped and restarted mid-run, and none is lost', async () => {
    const run = await runDemo(['--rabbitmq'], 290_000);
    expectTheShow(run);
    const out = run.stdout;
    expect(out).toContain('Starting the example services (in-memory mode, RabbitMQ)');
    expect(out).toMatch(/event bus websocket-server: connected to a private RabbitMQ on 127\.0\.0\.1:\d+/);
    expect(out).toMatch(/event bus analytics-service: connected to a private RabbitMQ on 127\.0\.0\.1:\d+/);
    // Conversation 1's event is counted, then the broker stops and both buses notice.
    expect(out).toContain('analytics-service has counted 1 of 1 event(s) published so far');
    expect(out).toMatch(/broker pid \d+ stopped with SIGTERM/);
    expect(out).toMatch(/event bus websocket-server: disconnected/);
    expect(out).toMatch(/event bus analytics-service: disconnected/);
    // Conversations 2 and 3 go on; their events are held, then confirmed once the broker is back.
    expect(out).toContain('2 conversation event(s) held while the broker was down');
    const recovery = out.slice(out.indexOf('== Recovery: the RabbitMQ broker restarts =='));
    expect(recovery).toMatch(/websocket-server published conversation\.completed \(session-2\): confirmed/);
    expect(recovery).toMatch(/websocket-server published conversation\.completed \(session-3\): confirmed/);
    expect(recovery).toContain('the held publishes are confirmed');
    expect(out).toMatch(/event bus: a private RabbitMQ on 127\.0\.0\.1:\d+, stopped and restarted once/);
    // The broker is gone afterwards: its restarted process and its data directory.
    expect(out).toContain('RabbitMQ broker stopped, its data directory removed');
    const dir = /data in (\S+)/.exec(out)?.[1];
    expect(dir).toMatch(/clone-rabbitmq-/);
    expect(existsSync(dir!)).toBe(false);
    const pid = Number(/broker pid (\d+) up again/.exec(out)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(() => process.kill(pid, 0)).toThrow();
  }, 300_000);
});
