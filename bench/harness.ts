/**
 * The one benchmark harness every `pnpm bench:*` uses: same-process comparisons, medians over
 * many samples, and a printed table with ratios against a named baseline row.
 */

export interface Sample {
  /** Median time per operation, in nanoseconds. */
  medianNs: number;
  /** 99th percentile of the per-sample time per operation, in nanoseconds. */
  p99Ns: number;
  samples: number;
  opsPerSample: number;
}

export interface MeasureOptions {
  /** Operations per sample; calibrated so one sample takes ~`sampleMs` when omitted. */
  opsPerSample?: number;
  /** Target duration of one sample when calibrating. Default 5 ms. */
  sampleMs?: number;
  /** Number of samples. Default 60. */
  samples?: number;
  /** Warm-up duration before sampling. Default 200 ms. */
  warmupMs?: number;
}

const now = (): number => Number(process.hrtime.bigint());

async function runBatch(fn: () => unknown, ops: number, isAsync: boolean): Promise<number> {
  const start = now();
  if (isAsync) for (let i = 0; i < ops; i++) await fn();
  else for (let i = 0; i < ops; i++) fn();
  return now() - start;
}

/**
 * Times `fn` (sync or async; async is awaited one at a time). Each sample runs `opsPerSample`
 * operations; the median and p99 are over the samples' per-operation times.
 */
export async function measure(fn: () => unknown, options: MeasureOptions = {}): Promise<Sample> {
  const first = fn();
  const isAsync = first instanceof Promise;
  if (isAsync) await first;
  const warmupEnd = Date.now() + (options.warmupMs ?? 200);
  let ops = 1;
  while (Date.now() < warmupEnd) {
    const elapsed = await runBatch(fn, ops, isAsync);
    if (elapsed < (options.sampleMs ?? 5) * 1e6) ops *= 2;
  }
  const opsPerSample = options.opsPerSample ?? Math.max(1, ops);
  const perOp: number[] = [];
  for (let s = 0; s < (options.samples ?? 60); s++)
    perOp.push((await runBatch(fn, opsPerSample, isAsync)) / opsPerSample);
  return summarize(perOp, opsPerSample);
}

/** Median and p99 of raw per-operation timings (ns), e.g. latencies collected by hand. */
export function summarize(perOpNs: number[], opsPerSample = 1): Sample {
  const sorted = [...perOpNs].sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { medianNs: at(0.5), p99Ns: at(0.99), samples: sorted.length, opsPerSample };
}

export interface Row {
  name: string;
  /** The figure compared (lower is better unless `higherIsBetter`). */
  value: number;
  unit: string;
  /** Name of the row this one's ratio is computed against. */
  baseline?: string;
  /** Extra columns, printed as given. */
  extra?: Record<string, string | number>;
}

/** Formats a nanosecond figure with a readable unit. */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return String(ns);
  if (ns < 1_000) return `${ns.toFixed(0)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(2)} µs`;
  return `${(ns / 1_000_000).toFixed(2)} ms`;
}

function formatValue(value: number, unit: string): string {
  if (unit === 'ns') return formatNs(value);
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toLocaleString('en-US', { maximumFractionDigits: digits })} ${unit}`;
}

/** Prints a table of rows with a `ratio` column (value ÷ baseline's value). */
export function printTable(title: string, rows: Row[]): void {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const extraKeys = [...new Set(rows.flatMap((r) => Object.keys(r.extra ?? {})))];
  const header = ['case', 'median', 'ratio', ...extraKeys];
  const body = rows.map((r) => {
    const base = r.baseline === undefined ? undefined : byName.get(r.baseline);
    const ratio = base && base.value !== 0 ? `${(r.value / base.value).toFixed(2)}x ${r.baseline}` : '';
    return [r.name, formatValue(r.value, r.unit), ratio, ...extraKeys.map((k) => String(r.extra?.[k] ?? ''))];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`\n${title}\n${line(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n`);
  for (const row of body) process.stdout.write(`${line(row)}\n`);
}
