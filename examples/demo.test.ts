import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Called with each line the demo prints, while it runs; `kill` sends it a signal. */
type Watcher = (line: string, kill: (signal: NodeJS.Signals) => void) => void;

/**
 * `pnpm demo [args]` without pnpm: the same command the root script runs, as a child process.
 * Without `RABBITMQ_URL`, so that the default mode's event bus is the in-memory one.
 */
function runDemo(args: string[] = [], timeoutMs = 85_000, watch?: Watcher): Promise<Run> {
  const { RABBITMQ_URL: _ignored, ...env } = process.env;
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=@clone/source', join(ROOT, 'examples/demo.ts'), ...args],
      { cwd: ROOT, env: { ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    const kill = (signal: NodeJS.Signals): void => void child.kill(signal);
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout += `${line}\n`;
      watch?.(line, kill);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The URLs the demo prints before its first conversation. */
const URLS = {
  metrics: /metrics {4}(http:\/\/127\.0\.0\.1:\d+\/metrics) /,
  dashboard: /dashboard {2}(http:\/\/127\.0\.0\.1:\d+\/) /,
  gateway: /gateway {4}(http:\/\/127\.0\.0\.1:\d+) /,
};

interface Answer {
  url: string;
  status: number;
  type: string;
  body: string;
}

async function get(url: string): Promise<Answer> {
  const res = await fetch(url);
  return { url, status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

/**
 * Fetches the dashboard page, `/metrics` and the gateway's `/api/v1/health` as soon as their URLs
 * are printed, while the demo runs; `answers()` gives what they answered.
 */
function fetchPrintedUrls(): { watch: Watcher; answers(): Promise<Answer[]> } {
  const pending: Array<Promise<Answer>> = [];
  return {
    watch(line) {
      const dashboard = URLS.dashboard.exec(line)?.[1];
      const metrics = URLS.metrics.exec(line)?.[1];
      const gateway = URLS.gateway.exec(line)?.[1];
      if (dashboard !== undefined) pending.push(get(dashboard));
      if (metrics !== undefined) pending.push(get(metrics));
      if (gateway !== undefined) pending.push(get(`${gateway}/api/v1/health`));
    },
    answers: () => Promise.all(pending),
  };
}

/** The three printed URLs answered while the demo ran. */
function expectTheViewsAnswered(answers: Answer[]): void {
  expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
  const [page, metrics, health] = answers as [Answer, Answer, Answer];
  expect(page.body).toContain('@clone resilience dashboard');
  expect(metrics.type).toContain('text/plain');
  expect(health.url).toMatch(/\/api\/v1\/health$/);
  expect(JSON.parse(health.body)).toMatchObject({ success: true });
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

/**
 * The first conversation's trace, printed as a tree: one trace id, conversation → saga → step →
 * call → attempt (client) → server; `crossProcess`: each server span from a process of its own.
 */
function expectTheTrace(run: Run, crossProcess: boolean): void {
  const out = run.stdout;
  const section = out.slice(out.indexOf('== Trace of the conversation session-1 =='));
  expect(section).toMatch(/trace [0-9a-f]{32}: \d+ spans from \d+ process\(es\), one trace id/);
  const lines = section.split('\n');
  const at = (pattern: RegExp): string => {
    const line = lines.find((l) => pattern.test(l));
    expect(line, `${pattern} in\n${section.slice(0, 5000)}`).toBeDefined();
    return line!;
  };
  const indent = (line: string): number => /^ *(?=\S)/.exec(line.slice(9))![0].length;
  const root = at(/^ {9}conversation session-1 +websocket-server pid (\d+)/);
  const orchestratorPid = /pid (\d+)/.exec(root)![1];
  const saga = at(/└ saga conversation +websocket-server/);
  const step = at(/└ step transcribe-audio +websocket-server/);
  const call = at(/└ asr(\.Transcribe)? call +websocket-server/);
  const attempt = at(/└ \S*ASRService\/Transcribe \(client\) +websocket-server/);
  const server = at(/└ \S*ASRService\/Transcribe \(server\) +asr-service pid (\d+)/);
  // Each one level deeper than the one before: the parent links.
  expect([root, saga, step, call, attempt, server].map(indent)).toEqual([0, 2, 4, 6, 8, 10]);
  // The conversation's event continues the trace: published under the conversation, counted by
  // analytics under the publish (the context rides in the event).
  const publish = lines.findIndex((l) => /└ publish conversation\.completed +websocket-server/.test(l));
  expect(publish, section.slice(0, 5000)).toBeGreaterThan(0);
  expect(lines[publish + 1]).toMatch(/└ process conversation\.completed/);
  expect([lines[publish]!, lines[publish + 1]!].map(indent)).toEqual([2, 4]);
  const serverPids = ['asr', 'rag', 'llm', 'tts', 'lipsync'].map(
    (kind) => new RegExp(`\\(server\\) +${kind}-service pid (\\d+)`).exec(section)?.[1],
  );
  expect(serverPids.every((pid) => pid !== undefined)).toBe(true);
  if (crossProcess) {
    expect(new Set(serverPids).size).toBe(5);
    expect(serverPids).not.toContain(orchestratorPid);
    expect(section).toMatch(/from 6 process\(es\)/);
  } else expect(new Set(serverPids)).toEqual(new Set([orchestratorPid]));
  // Conversation 4, TTS dead: three failed attempt spans under the call span, nothing reached a
  // server; the compensation's ClearCache call did.
  const outage = out.slice(out.indexOf('== Trace of the conversation session-4 =='));
  const outageLines = outage.split('\n');
  const ttsCall = outageLines.findIndex((l) => /└ tts(\.Synthesize)? call ✗ SERVICE_UNAVAILABLE/.test(l));
  expect(ttsCall, outage.slice(0, 5000)).toBeGreaterThan(0);
  expect(outageLines.slice(ttsCall + 1, ttsCall + 4)).toEqual(
    Array.from({ length: 3 }, () =>
      expect.stringMatching(/└ \S*TTSService\/Synthesize \(client\) ✗ UNAVAILABLE/),
    ),
  );
  expect(outageLines[ttsCall + 4]).not.toMatch(/TTSService\/Synthesize/);
  expect(outage).toMatch(
    /└ compensate retrieve-context[^\n]*\n *└ rag(\.ClearCache)? call[^\n]*\n *└ \S*RAGService\/ClearCache \(client\)[^\n]*\n *└ \S*RAGService\/ClearCache \(server\) +rag-service/,
  );
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
    const urls = fetchPrintedUrls();
    const run = await runDemo([], 85_000, urls.watch);
    expectTheShow(run);
    expectTheViewsAnswered(await urls.answers());
    expectTheTrace(run, false);
    expect(run.stdout).toContain('in-process services, in-memory registry');
    expect(run.stdout).toContain('event bus: in memory');
    expect(run.stdout).toMatch(/health tts-service-1: healthy → unhealthy/);
  }, 90_000);

  it('--etcd: services in their own processes, discovered by name through etcd', async () => {
    const urls = fetchPrintedUrls();
    const run = await runDemo(['--etcd'], 85_000, urls.watch);
    expectTheShow(run);
    expectTheViewsAnswered(await urls.answers());
    expectTheTrace(run, true);
    expect(run.stdout).toMatch(/etcd {5}listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(run.stdout).toMatch(/discovered through etcd: asr-service-\d+, rag-service-\d+/);
    expect(run.stdout).toMatch(/registry: tts-service-\d+ joined/);
  }, 90_000);

  it('--serve: after the show, the dashboard and the gateway stay up until SIGTERM, then everything closes', async () => {
    const urls: Record<string, string> = {};
    const checks: Array<Promise<void>> = [];
    const run = await runDemo(['--serve'], 85_000, (line, kill) => {
      for (const [name, pattern] of Object.entries(URLS)) {
        const url = pattern.exec(line)?.[1];
        if (url !== undefined) urls[name] = url;
      }
      const token = /authorization: Bearer ([\w.-]+)/.exec(line)?.[1];
      if (token !== undefined) urls.token = token;
      if (!line.includes('== Serving:')) return;
      checks.push(
        (async () => {
          try {
            // The show is over: what it did is in /metrics; a conversation through the gateway works.
            const metrics = await get(urls.metrics!);
            expect(metrics.body).toMatch(/clone_circuit_state\{[^}]*rpc_service="tts"[^}]*\} 0/);
            expect(metrics.body).toMatch(
              /clone_saga_ended_total\{[^}]*clone_saga_outcome="compensated"[^}]*\} 2/,
            );
            expect(metrics.body).toMatch(/rpc_client_duration_count\{[^}]*rpc_service="asr"/);
            const res = await fetch(`${urls.gateway}/api/v1/conversations`, {
              method: 'POST',
              headers: { authorization: `Bearer ${urls.token}`, 'content-type': 'application/json' },
              body: JSON.stringify({ sessionId: 'curl-1', text: 'Where did you grow up?' }),
            });
            expect(res.status).toBe(201);
            expect(((await res.json()) as { data: { reply: string } }).data.reply).toContain('Lisbon');
            expect((await get(urls.dashboard!)).status).toBe(200);
          } finally {
            kill('SIGTERM');
          }
        })(),
      );
    });
    await Promise.all(checks);
    expect(checks).toHaveLength(1);
    expectTheShow(run);
    expect(run.stderr).toContain('SIGTERM: closing everything');
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
