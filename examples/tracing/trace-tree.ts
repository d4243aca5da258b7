/**
 * One trace put together from the span records of every process (see span-file-exporter.ts),
 * as a tree by parent span id, and printed indented with each span's service, process and
 * duration.
 */
import type { SpanRecord } from './span-file-exporter';

/** A span and the spans whose parent it is, in start order. */
export interface TraceNode {
  span: SpanRecord;
  children: TraceNode[];
}

/**
 * The trace id of a conversation: that of its saga span (`clone.saga.id` is
 * `conversation-<sessionId>`); undefined when that span is not (yet) recorded.
 */
export function conversationTraceId(records: readonly SpanRecord[], sessionId: string): string | undefined {
  const sagaId = `conversation-${sessionId}`;
  return records.find((r) => r.attributes['clone.saga.id'] === sagaId)?.traceId;
}

/**
 * The spans of `traceId` as trees: the roots are the spans whose parent is not among them (the
 * trace's root span, or a span whose parent was lost).
 */
export function traceTree(records: readonly SpanRecord[], traceId: string): TraceNode[] {
  const nodes = new Map<string, TraceNode>();
  for (const span of records) if (span.traceId === traceId) nodes.set(span.spanId, { span, children: [] });
  const roots: TraceNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.span.parentSpanId === undefined ? undefined : nodes.get(node.span.parentSpanId);
    (parent === undefined ? roots : parent.children).push(node);
  }
  const order = (list: TraceNode[]): void => {
    list.sort((a, b) => a.span.startMs - b.span.startMs);
    for (const n of list) order(n.children);
  };
  order(roots);
  return roots;
}

/** Every node of the trees, depth first. */
export function flatten(roots: readonly TraceNode[]): TraceNode[] {
  return roots.flatMap((n) => [n, ...flatten(n.children)]);
}

const duration = (ms: number): string => (ms < 10 ? `${ms.toFixed(2)} ms` : `${Math.round(ms)} ms`);

/**
 * The trees as text, one line per span: indented by depth, the span's name (`(client)`,
 * `(server)` for gRPC spans; `✗ <error>` when it failed), where it ran (service and pid) and how
 * long it took.
 */
export function formatTraceTree(roots: readonly TraceNode[]): string[] {
  const lines: string[] = [];
  const walk = (node: TraceNode, depth: number): void => {
    const { span } = node;
    const kind = span.kind === 'CLIENT' ? ' (client)' : span.kind === 'SERVER' ? ' (server)' : '';
    const failed = span.status === 'ERROR' ? ` ✗ ${String(span.attributes['error.type'] ?? 'error')}` : '';
    const label = `${'  '.repeat(depth)}${depth > 0 ? '└ ' : ''}${span.name}${kind}${failed}`;
    lines.push(
      `${label.padEnd(62)} ${`${span.service} pid ${span.pid}`.padEnd(30)} ${duration(span.durationMs).padStart(9)}`,
    );
    for (const child of node.children) walk(child, depth + 1);
  };
  for (const root of roots) walk(root, 0);
  return lines;
}
