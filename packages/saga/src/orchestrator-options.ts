import {
  clockOption,
  durationMs,
  functionOption,
  intAtLeast,
  loggerOption,
  nonEmptyString,
  objectOption,
} from '@clone/internal';
import type { Clock, Logger } from '@clone/service-errors';
import { z } from 'zod';
import type { RemoteStepSource } from './orchestrator-types';
import { retryOption } from './step-runner';
import type { SagaStore } from './store';

/** The options of {@link SagaOrchestrator}, parsed once at construction. */
export const orchestratorOptionsSchema = z.strictObject({
  /** Where state lives. Default: an in-memory store (no crash recovery across processes). */
  store: z
    .custom<SagaStore>(
      (v) => typeof v === 'object' && v !== null && typeof (v as SagaStore).write === 'function',
      { error: 'must be a SagaStore' },
    )
    .optional(),
  /** Names this instance in leases. Default: an id from `createId`. */
  orchestratorId: nonEmptyString().optional(),
  /** Makes saga ids (and the orchestrator's id when not given). Default: a random UUID. */
  createId: functionOption<() => string>().optional(),
  /** Sagas run at once (started + recovered, `SAGA_MAX_ACTIVE_SAGAS`); `startSaga` beyond it throws BULKHEAD_FULL. */
  maxActiveSagas: intAtLeast(1).default(100),
  /** Per-attempt timeout of steps that set none (`SAGA_STEP_TIMEOUT`). */
  defaultStepTimeoutMs: durationMs(1).default(30_000),
  /** How long a lease lasts; renewed every third of it. Another orchestrator takes over after it expires. */
  leaseMs: durationMs(100).default(30_000),
  /** How often to claim sagas whose owner died; 0 = only when `recover()` is called. */
  recoveryIntervalMs: durationMs(0).default(0),
  /** What to do with a recovered running saga: resume it (default) or compensate it. */
  recoveryPolicy: z.enum(['resume', 'compensate']).default('resume'),
  /** Finished sagas kept for `getSagaStatus()`, `waitForSaga()` and `getSagaHistory()` at most. */
  historyLimit: intAtLeast(0).default(1000),
  /** How long a finished saga stays in memory after it finished (see `cleanupIntervalMs`). */
  historyRetentionMs: durationMs(0).default(3_600_000),
  /**
   * How often finished sagas older than `historyRetentionMs` are removed from memory
   * (`SAGA_CLEANUP_INTERVAL`); 0 = never, only `historyLimit` bounds them. The store keeps them.
   */
  cleanupIntervalMs: durationMs(0).default(300_000),
  /** Retry for compensations. Default: a few attempts with exponential backoff. */
  compensationRetry: retryOption().optional(),
  /**
   * Handlers of steps with no local registration: the steps other processes run. Set by
   * `@clone/distributed-saga`; without it every action needs a local handler.
   */
  remoteSteps: objectOption<RemoteStepSource>(
    ['assertServes', 'stepHandler', 'compensationHandler'],
    'must be a RemoteStepSource (assertServes, stepHandler, compensationHandler)',
  ).optional(),
  clock: clockOption<Clock>().optional(),
  logger: loggerOption<Logger>().optional(),
});

/** Options of {@link SagaOrchestrator}. */
export type SagaOrchestratorOptions = z.input<typeof orchestratorOptionsSchema>;

/** The options after parsing, defaults applied. */
export type ParsedOrchestratorOptions = z.output<typeof orchestratorOptionsSchema>;

/** Options of {@link SagaOrchestrator.close}. */
export const closeOptionsSchema = z.strictObject({
  /** How long to wait for active sagas to finish before letting go of them. Default 5 s. */
  drainTimeoutMs: durationMs(0).default(5_000),
});
