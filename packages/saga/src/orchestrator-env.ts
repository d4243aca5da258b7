import { numbersFromEnv } from '@clone/internal';
import { type Env, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import type { z } from 'zod';
import { orchestratorOptionsSchema, type SagaOrchestratorOptions } from './orchestrator-options';

/** The deployment's variables and the options they set. */
const VARIABLES = [
  ['SAGA_STEP_TIMEOUT', 'defaultStepTimeoutMs'],
  ['SAGA_MAX_ACTIVE_SAGAS', 'maxActiveSagas'],
  ['SAGA_CLEANUP_INTERVAL', 'cleanupIntervalMs'],
] as const;

/**
 * Orchestrator options from `SAGA_STEP_TIMEOUT` (ms, `defaultStepTimeoutMs`),
 * `SAGA_MAX_ACTIVE_SAGAS` (`maxActiveSagas`) and `SAGA_CLEANUP_INTERVAL` (ms,
 * `cleanupIntervalMs`). Each is checked by its option's own schema; unset or blank variables are
 * left out, so defaults apply. A bad value throws BAD_REQUEST naming the variable and the value.
 */
export function orchestratorOptionsFromEnv(env: Env): Partial<SagaOrchestratorOptions> {
  return numbersFromEnv<SagaOrchestratorOptions>(
    env,
    VARIABLES,
    orchestratorOptionsSchema.shape as Readonly<Record<string, z.ZodType>>,
    ({ variable, field, message }) => {
      throw new ServiceError(ServiceErrorCode.BAD_REQUEST, `SagaOrchestrator: ${message}`, undefined, {
        retryable: false,
        metadata: { variable, field },
      });
    },
  );
}
