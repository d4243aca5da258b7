import { describe, expect, it } from 'vitest';
import type { SpanRecord } from './span-file-exporter';
import { conversationTraceId, flatten, formatTraceTree, traceTree } from './trace-tree';

const span = (over: Partial<SpanRecord> & Pick<SpanRecord, 'spanId' | 'name' | 'startMs'>): SpanRecord => ({
  traceId: 't1',
  kind: 'INTERNAL',
  service: 'websocket-server',
  pid: 10,
  durationMs: 1,
  status: 'OK',
  attributes: {},
  events: [],
  ...over,
});

const records: SpanRecord[] = [
  span({ spanId: 'c', parentSpanId: 'b', name: 'asr.ASRService/Transcribe', kind: 'CLIENT', startMs: 3 }),
  span({ spanId: 'a', name: 'conversation s-1', startMs: 1 }),
  span({
    spanId: 'd',
    parentSpanId: 'c',
    name: 'asr.ASRService/Transcribe',
    kind: 'SERVER',
    service: 'asr-service',
    pid: 11,
    startMs: 4,
    durationMs: 2.5,
  }),
  span({
    spanId: 'b',
    parentSpanId: 'a',
    name: 'saga conversation',
    startMs: 2,
    attributes: { 'clone.saga.id': 'conversation-s-1' },
  }),
  span({
    spanId: 'e',
    parentSpanId: 'b',
    name: 'late sibling',
    startMs: 9,
    status: 'ERROR',
    attributes: { 'error.type': 'CIRCUIT_OPEN' },
  }),
  span({ traceId: 't2', spanId: 'x', name: 'health check', startMs: 0 }),
  span({ spanId: 'o', parentSpanId: 'gone', name: 'orphan', startMs: 0 }),
];

describe('traceTree', () => {
  it('links spans of one trace by parent id, children in start order, orphans as roots', () => {
    expect(conversationTraceId(records, 's-1')).toBe('t1');
    expect(conversationTraceId(records, 's-2')).toBeUndefined();
    const roots = traceTree(records, 't1');
    expect(roots.map((r) => r.span.name)).toEqual(['orphan', 'conversation s-1']);
    expect(flatten(roots).map((n) => n.span.spanId)).toEqual(['o', 'a', 'b', 'c', 'd', 'e']);
  });

  it('prints one indented line per span with its service, pid and duration', () => {
    const lines = formatTraceTree(traceTree(records, 't1').slice(1));
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^conversation s-1 +websocket-server pid 10 +1\.00 ms$/);
    expect(lines[2]).toMatch(/^ {4}└ asr\.ASRService\/Transcribe \(client\) +websocket-server pid 10/);
    expect(lines[3]).toMatch(/^ {6}└ asr\.ASRService\/Transcribe \(server\) +asr-service pid 11 +2\.50 ms$/);
    expect(lines[4]).toMatch(/^ {4}└ late sibling ✗ CIRCUIT_OPEN /);
  });
});
