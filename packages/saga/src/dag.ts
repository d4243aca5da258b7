import { intAtLeast, nonEmptyString } from '@clone/internal';
import { parseOptions, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { z } from 'zod';
import { deepFreeze } from './json';
import type { SagaStepDefinition } from './store';

const stepSchema = z.strictObject({
  id: nonEmptyString(),
  name: nonEmptyString(),
  service: nonEmptyString(),
  action: nonEmptyString(),
  compensationAction: nonEmptyString().optional(),
  timeout: intAtLeast(1).optional(),
  retryAttempts: intAtLeast(0).optional(),
  dependencies: z.array(nonEmptyString()).optional(),
  compensateOnFailure: z.boolean().optional(),
});

const stepsSchema = z.array(stepSchema).min(1, { error: 'must list at least one step' });

function invalid(message: string, metadata: Record<string, unknown>): ServiceError {
  return new ServiceError(ServiceErrorCode.BAD_REQUEST, `startSaga: ${message}`, undefined, {
    retryable: false,
    metadata,
  });
}

const validated = new Map<string, readonly SagaStepDefinition[]>();
const CACHE_SIZE = 256;

/**
 * {@link validateSteps}, memoised on the steps' JSON: services start the same few saga shapes
 * over and over, and the result is frozen, so sagas can share it.
 */
export function validateStepsCached(steps: unknown): readonly SagaStepDefinition[] {
  let key: string | undefined;
  try {
    key = JSON.stringify(steps);
  } catch {
    // Not JSON (a cycle, a bigint): validateSteps reports what is wrong with it.
  }
  const hit = key === undefined ? undefined : validated.get(key);
  if (hit) return hit;
  const defs = deepFreeze(validateSteps(steps));
  if (key !== undefined) {
    if (validated.size >= CACHE_SIZE) validated.delete(validated.keys().next().value!);
    validated.set(key, defs);
  }
  return defs;
}

/**
 * Checks a saga's steps before anything runs: the shape of each, unique ids, dependencies that
 * exist, and no cycle (a cycle would leave its steps waiting forever). Returns plain copies,
 * so later changes to the caller's objects cannot alter a running saga.
 */
export function validateSteps(steps: unknown): SagaStepDefinition[] {
  const parsed = parseOptions(stepsSchema, steps, 'startSaga: steps') as SagaStepDefinition[];
  const ids = new Set<string>();
  for (const step of parsed) {
    if (ids.has(step.id)) throw invalid(`duplicate step id '${step.id}'`, { step: step.id });
    ids.add(step.id);
  }
  for (const step of parsed) {
    for (const dep of step.dependencies ?? []) {
      if (!ids.has(dep))
        throw invalid(`step '${step.id}' depends on unknown step '${dep}'`, {
          step: step.id,
          dependency: dep,
        });
    }
  }
  // Kahn's algorithm: whatever cannot be ordered sits on a cycle.
  const indegree = new Map(parsed.map((s) => [s.id, s.dependencies?.length ?? 0]));
  const dependents = new Map<string, string[]>();
  for (const step of parsed)
    for (const dep of step.dependencies ?? []) dependents.set(dep, [...(dependents.get(dep) ?? []), step.id]);
  const queue = parsed.filter((s) => indegree.get(s.id) === 0).map((s) => s.id);
  let ordered = 0;
  while (queue.length > 0) {
    const id = queue.pop()!;
    ordered++;
    for (const next of dependents.get(id) ?? []) {
      const left = indegree.get(next)! - 1;
      indegree.set(next, left);
      if (left === 0) queue.push(next);
    }
  }
  if (ordered < parsed.length) {
    const cycle = [...indegree].filter(([, n]) => n > 0).map(([id]) => id);
    throw invalid(`steps form a dependency cycle: ${cycle.join(', ')}`, { steps: cycle });
  }
  return parsed;
}
