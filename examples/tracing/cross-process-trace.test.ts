// The --etcd wiring of `pnpm demo`, traced: each service in a process of its own (registering the
// OpenTelemetry SDK itself, --trace-dir), the orchestrator here with the SDK registered. One
// conversation is one trace: conversation → saga → step → call → attempt (client) → server, the
// server spans written by the service processes, linked to the orchestrator's by the W3C
// traceparent in the gRPC metadata.
import type { ServiceKind } from '@clone/grpc-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Deployment, withEtcd } from '../deployments';
import { startGatewayFront } from '../gateway-front';
import { encodeSpeech } from '../lib/speech-codec';
import { ConversationOrchestrator } from '../orchestrator';
import { DEMO_JWT_SECRET } from '../services/index';
import { type DemoTracing, makeTraceDir, removeTraceDir, startTracing } from './demo-tracing';
import { readSpanRecords, type SpanRecord } from './span-file-exporter';
import { conversationTraceId, flatten, type TraceNode, traceTree } from './trace-tree';

let dir: string;
let tracing: DemoTracing;
let deployment: Deployment;
let orchestrator: ConversationOrchestrator;

beforeAll(async () => {
  dir = makeTraceDir();
  tracing = startTracing({ serviceName: 'websocket-server', dir });
  deployment = await withEtcd({
    jwtSecret: DEMO_JWT_SECRET,
    healthCheckIntervalMs: 30_000,
    onInterrupt: new Set(),
    tracing,
  });
  orchestrator = new ConversationOrchestrator({
    jwtSecret: DEMO_JWT_SECRET,
    endpoints: deployment.endpoints,
    registry: deployment.registry,
    circuitBreaker: { failureThreshold: 10 },
    retry: { maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 50 },
    client: { defaultDeadlineMs: 5_000 },
  });
  await deployment.ready(orchestrator);
});

afterAll(async () => {
  await orchestrator?.close();
  await deployment?.close();
  await tracing?.shutdown();
  if (dir !== undefined) removeTraceDir(dir);
});

/** The conversation's trace once it holds `servers` server spans (written by other processes). */
async function trace(sessionId: string, servers: number): Promise<{ traceId: string; roots: TraceNode[] }> {
  for (let i = 0; ; i++) {
    const records = readSpanRecords(dir);
    const traceId = conversationTraceId(records, sessionId);
    if (traceId !== undefined) {
      const roots = traceTree(records, traceId);
      if (flatten(roots).filter((n) => n.span.kind === 'SERVER').length >= servers || i > 100)
        return { traceId, roots };
    } else if (i > 100) throw new Error(`no saga span of ${sessionId}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The one child of `node` named `name`. */
function child(node: TraceNode, name: string | RegExp): TraceNode {
  const found = node.children.filter((c) =>
    typeof name === 'string' ? c.span.name === name : name.test(c.span.name),
  );
  expect(
    found,
    `${node.span.name} → ${name} among ${node.children.map((c) => c.span.name).join(', ')}`,
  ).toHaveLength(1);
  return found[0]!;
}

/** The name of a call span: `<service>.<method> call`, the method the call made. */
const callSpan = (service: string, method: string): RegExp => new RegExp(`^${service}\\.${method} call$`);

const kindOf = (node: TraceNode): SpanRecord['kind'] => node.span.kind;

const STEPS: Array<[step: string, service: ServiceKind, method: string]> = [
  ['transcribe-audio', 'asr', 'Transcribe'],
  ['retrieve-context', 'rag', 'Retrieve'],
  ['generate-response', 'llm', 'Generate'],
  ['synthesize-speech', 'tts', 'Synthesize'],
];

describe('one conversation, traced across processes (--etcd)', () => {
  it('is one trace: conversation → saga → step → call → attempt → server, server spans from the service processes', async () => {
    const outcome = await orchestrator.converse({
      userId: 'user-1',
      sessionId: 'trace-1',
      audio: encodeSpeech('Where did you grow up?'),
    });
    expect(outcome.saga.success).toBe(true);
    const { traceId, roots } = await trace('trace-1', 5);
    // One root: every span of the trace hangs off the conversation span by its parent id.
    expect(roots.map((r) => r.span.name)).toEqual(['conversation trace-1']);
    const [root] = roots as [TraceNode];
    expect(root.span.pid).toBe(process.pid);
    expect(new Set(flatten(roots).map((n) => n.span.traceId))).toEqual(new Set([traceId]));

    const saga = child(root, 'saga conversation');
    expect(saga.span.attributes['clone.saga.id']).toBe('conversation-trace-1');
    expect(saga.children.map((c) => c.span.name)).toEqual(STEPS.map(([step]) => `step ${step}`));
    const servicePids = new Set<number>();
    for (const [step, service, method] of STEPS) {
      const call = child(child(saga, `step ${step}`), callSpan(service, method));
      expect(call.span.attributes['clone.attempts']).toBe(1);
      const attempt = child(call, new RegExp(`/${method}$`));
      expect(kindOf(attempt)).toBe('CLIENT');
      expect(attempt.span.attributes).toMatchObject({ 'rpc.method': method, 'rpc.grpc.status_code': 0 });
      const server = child(attempt, attempt.span.name);
      expect(kindOf(server)).toBe('SERVER');
      // Recorded by the service's own process, not this one.
      expect(server.span.service).toBe(`${service}-service`);
      expect(server.span.pid).not.toBe(process.pid);
      servicePids.add(server.span.pid);
    }
    expect(servicePids.size).toBe(4);
    // The avatar's frames: after the saga, still in the conversation's trace.
    const lipsync = child(child(root, callSpan('lipsync', 'GenerateFrames')), /\/GenerateFrames$/);
    expect(child(lipsync, lipsync.span.name).span.service).toBe('lipsync-service');
  });

  it("continues a caller's traceparent through the gateway: HTTP server span → conversation → saga", async () => {
    const front = await startGatewayFront({
      orchestrator,
      registry: deployment.registry,
      jwtSecret: DEMO_JWT_SECRET,
    });
    try {
      const traceId = '0af7651916cd43dd8448eb211c80319c';
      const res = await fetch(`${front.url}/api/v1/conversations`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${front.token}`,
          'content-type': 'application/json',
          traceparent: `00-${traceId}-b7ad6b7169203331-01`,
        },
        body: JSON.stringify({ sessionId: 'trace-http', text: 'Where did you grow up?' }),
      });
      expect(res.status).toBe(201);
      const found = await trace('trace-http', 5);
      expect(found.traceId).toBe(traceId);
      // The root's parent is the caller's span, which no process here recorded.
      const [http] = found.roots as [TraceNode];
      expect(found.roots).toHaveLength(1);
      expect(http.span).toMatchObject({
        name: 'POST /conversations',
        kind: 'SERVER',
        service: 'conversation-service',
        parentSpanId: 'b7ad6b7169203331',
      });
      const saga = child(child(http, 'conversation trace-http'), 'saga conversation');
      expect(saga.children).toHaveLength(4);
    } finally {
      await front.close();
    }
  });

  it('shows each retry as an attempt span of the call, and the compensations as spans with their own calls', async () => {
    await deployment.crash('tts');
    const outcome = await orchestrator.converse({
      userId: 'user-1',
      sessionId: 'trace-2',
      audio: encodeSpeech('Do you have a cat?'),
    });
    expect(outcome.saga.success).toBe(false);
    const { roots } = await trace('trace-2', 4);
    const saga = child(roots[0]!, 'saga conversation');
    expect(saga.span.status).toBe('ERROR');
    const call = child(child(saga, 'step synthesize-speech'), callSpan('tts', 'Synthesize'));
    expect(call.span.status).toBe('ERROR');
    // Three attempts, each a CLIENT span of its own that failed; nothing reached a server.
    expect(call.children.map(kindOf)).toEqual(['CLIENT', 'CLIENT', 'CLIENT']);
    for (const attempt of call.children) {
      expect(attempt.span.status).toBe('ERROR');
      expect(attempt.children).toEqual([]);
    }
    expect(call.span.events.filter((e) => e === 'retry')).toHaveLength(2);
    // RAG's compensation calls ClearCache: compensate → call → attempt → server in the rag process.
    const clear = child(child(saga, 'compensate retrieve-context'), callSpan('rag', 'ClearCache'));
    const server = child(child(clear, /\/ClearCache$/), /\/ClearCache$/);
    expect(server.span).toMatchObject({ kind: 'SERVER', service: 'rag-service' });
  });
});
