import { durationMs, functionOption, nonEmptyString } from '@clone/internal';
import { parseOptions } from '@clone/service-errors';
import { z } from 'zod';

/**
 * What a check answers: `true`/`undefined` (up), `false` (down), or an object saying which, with
 * details for the report (sizes, versions, lag). A check that throws or times out is down, with
 * the error's message in the report.
 */
export type HealthCheckOutcome = boolean | undefined | { up: boolean; details?: Record<string, unknown> };

/** One check the monitor runs. Build them with `HealthChecks` or write your own. */
export interface HealthIndicator {
  /** Unique in the monitor; the key in the report. */
  name: string;
  /**
   * `readiness` (the default): a dependency the service needs to take traffic (database,
   * broker, a callee). `liveness`: the process itself (event loop, memory); liveness must never
   * depend on another service, or an outage of that service restarts every caller.
   */
  kind?: 'readiness' | 'liveness';
  /** Whether a failure makes the service not ready (default true); non-critical ones only degrade the report. */
  critical?: boolean;
  /** How long one run may take before it counts as down, in ms (default: the monitor's `checkTimeoutMs`). */
  timeoutMs?: number;
  /** Runs the check once; must stop promptly when `signal` aborts. */
  check(signal: AbortSignal): Promise<HealthCheckOutcome> | HealthCheckOutcome;
}

const indicatorSchema = z.object({
  name: nonEmptyString(),
  kind: z
    .enum(['readiness', 'liveness'], { error: "must be 'readiness' or 'liveness'" })
    .default('readiness'),
  critical: z.boolean({ error: 'must be a boolean' }).default(true),
  timeoutMs: durationMs().optional(),
  check: functionOption<HealthIndicator['check']>(),
});

/** A registered indicator, validated, with its defaults filled in. */
export type ParsedIndicator = Readonly<z.output<typeof indicatorSchema>>;

/** Validates an indicator; a bad field throws BAD_REQUEST naming it. */
export function parseIndicator(input: unknown): ParsedIndicator {
  return Object.freeze(parseOptions(indicatorSchema, input, 'HealthMonitor.register'));
}
