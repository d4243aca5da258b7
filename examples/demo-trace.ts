/**
 * Prints one conversation's trace: the spans every process of the run wrote (the orchestrator's,
 * and each service's, in its own process with `--etcd`), put together by trace id and parent
 * span id: conversation → saga → step → call → attempt (client) → server.
 */
import { heading, log, plain } from './demo-output';
import { readSpanRecords } from './tracing/span-file-exporter';
import {
  conversationTraceId,
  flatten,
  formatTraceTree,
  type TraceNode,
  traceTree,
} from './tracing/trace-tree';

/** Polls the span files until the conversation's trace has `servers` SERVER spans (at most `timeoutMs`). */
async function collect(dir: string, sessionId: string, servers: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const records = readSpanRecords(dir);
    const traceId = conversationTraceId(records, sessionId);
    const roots: TraceNode[] = traceId === undefined ? [] : traceTree(records, traceId);
    const done = flatten(roots).filter((n) => n.span.kind === 'SERVER').length >= servers;
    if (done || Date.now() > deadline) return { traceId, roots };
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Prints the trace of the conversation of `sessionId` from the span files in `dir`, once it
 * holds `servers` server spans (a successful conversation: one per service; default 5).
 */
export async function printConversationTrace(dir: string, sessionId: string, servers = 5): Promise<void> {
  const { traceId, roots } = await collect(dir, sessionId, servers, 3_000);
  heading(`Trace of the conversation ${sessionId}`);
  if (traceId === undefined) {
    log(`no span of ${sessionId} was recorded`);
    return;
  }
  const spans = flatten(roots);
  const processes = new Set(spans.map((n) => n.span.pid));
  log(
    `trace ${traceId}: ${spans.length} spans from ${processes.size} process(es), one trace id (W3C traceparent in the gRPC metadata)`,
  );
  for (const line of formatTraceTree(roots)) plain(line);
}
