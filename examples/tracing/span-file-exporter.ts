/**
 * Where the demo's processes put their finished spans: one JSON line per span, appended to a
 * file of the process's own in a directory the demo shares with its children, so the demo can
 * put one conversation's trace together from every process afterwards.
 */
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode, hrTimeToMilliseconds } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/** One finished span as the file holds it. */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  /** Absent on a root span. */
  parentSpanId?: string | undefined;
  name: string;
  kind: 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';
  /**
   * The span's `service.name` attribute (set by @clone/telemetry's `createTracer`), else that of
   * the process's (or the in-process service's) resource.
   */
  service: string;
  pid: number;
  /** Wall-clock start, ms since the epoch. */
  startMs: number;
  durationMs: number;
  status: 'UNSET' | 'OK' | 'ERROR';
  attributes: Record<string, unknown>;
  /** Names of the span's events (retries, circuit transitions). */
  events: string[];
}

const STATUS = ['UNSET', 'OK', 'ERROR'] as const;

/** Turns an SDK span into its record. */
export function toSpanRecord(span: ReadableSpan): SpanRecord {
  const context = span.spanContext();
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    name: span.name,
    kind: SpanKind[span.kind] as SpanRecord['kind'],
    service: String(span.attributes['service.name'] ?? span.resource.attributes['service.name'] ?? 'unknown'),
    pid: process.pid,
    startMs: hrTimeToMilliseconds(span.startTime),
    durationMs: hrTimeToMilliseconds(span.duration),
    status: STATUS[span.status.code] ?? 'UNSET',
    attributes: { ...span.attributes },
    events: span.events.map((e) => e.name),
  };
}

/**
 * A span exporter appending each span to `file` as a JSON line. The write is synchronous: with a
 * `SimpleSpanProcessor` a span is on disk when it ends, so a server span is written before its
 * status reaches the caller, and a process killed later has lost nothing it finished.
 */
export class SpanFileExporter implements SpanExporter {
  readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    try {
      appendFileSync(this.file, spans.map((s) => `${JSON.stringify(toSpanRecord(s))}\n`).join(''));
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      resultCallback({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  async shutdown(): Promise<void> {}
}

/** Every span record of every `*.jsonl` file in `dir` (a line cut short by a kill is skipped). */
export function readSpanRecords(dir: string): SpanRecord[] {
  const records: SpanRecord[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.jsonl')) continue;
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (line === '') continue;
      try {
        records.push(JSON.parse(line) as SpanRecord);
      } catch {
        // The last line of a process killed mid-write.
      }
    }
  }
  return records;
}
