import { durationMs, intAtLeast, nonEmptyString } from '@clone/internal';
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
  timeout: durationMs(1).optional(),
  retryAttempts: intAtLeast(0).optional(),
  dependencies: z.array(nonEmptyString()).optional(),
  compensateOnFailure: z.boolean().optional(),
});

const stepListSchema = z.array(z.unknown()).min(1, { error: 'must list at least one step' });

/** How a step is named in an error before its shape is known: its id when it has one, else its index. */
function describeStep(step: unknown, index: number): string {
  const id = (step as { id?: unknown } | null)?.id;
  return typeof id === 'string' && id !== '' ? `step '${id}'` : `step #${index}`;
}

/** Parses the list and each step, naming the step in any error; a definition that cannot be read is BAD_REQUEST. */
function parseSteps(steps: unknown): SagaStepDefinition[] {
  let at = 'steps';
  try {
    const list = parseOptions(stepListSchema, steps, 'startSaga: steps');
    return list.map((step, index) => {
      at = describeStep(step, index);
      return parseOptions(stepSchema, step, `startSaga: ${at}`) as SagaStepDefinition;
    });
  } catch (error) {
    if (error instanceof ServiceError) throw error;
    // A getter or proxy trap of the caller's object threw while it was read.
    throw new ServiceError(ServiceErrorCode.BAD_REQUEST, `startSaga: ${at} could not be read`, undefined, {
      retryable: false,
      cause: error,
    });
  }
}

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
    // Not JSON (a cycle, a bigint, a throwing getter): validateSteps reports what is wrong with it.
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

const dependencySets = new WeakMap<SagaStepDefinition, ReadonlySet<string>>();

/**
 * A step's dependencies without repeats, computed once per definition: a step may list the
 * same dependency many times, and checking each copy on every scheduling pass would make
 * the cost grow with the repeats.
 */
export function uniqueDependencies(def: SagaStepDefinition): ReadonlySet<string> {
  let deps = dependencySets.get(def);
  if (deps === undefined) {
    deps = new Set(def.dependencies);
    dependencySets.set(def, deps);
  }
  return deps;
}

/** Step definitions by id (a Map: a step id is user data, `__proto__` included). */
export function stepIndex(steps: readonly SagaStepDefinition[]): Map<string, SagaStepDefinition> {
  return new Map(steps.map((s) => [s.id, s]));
}

/**
 * Checks a saga's steps before anything runs: the shape of each, unique ids, dependencies that
 * exist, and no cycle (a cycle would leave its steps waiting forever). Linear in the number
 * of steps plus dependencies, repeats included. Returns plain copies, so later changes to the
 * caller's objects cannot alter a running saga.
 */
export function validateSteps(steps: unknown): SagaStepDefinition[] {
  const parsed = parseSteps(steps);
  const ids = new Set<string>();
  for (const step of parsed) {
    if (ids.has(step.id)) throw invalid(`duplicate step id '${step.id}'`, { step: step.id });
    ids.add(step.id);
  }
  // Kahn's algorithm on distinct edges: whatever cannot be ordered sits on a cycle.
  const indegree = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const step of parsed) {
    const deps = uniqueDependencies(step);
    for (const dep of deps) {
      if (!ids.has(dep))
        throw invalid(`step '${step.id}' depends on unknown step '${dep}'`, {
          step: step.id,
          dependency: dep,
        });
      const list = dependents.get(dep);
      if (list === undefined) dependents.set(dep, [step.id]);
      else list.push(step.id);
    }
    indegree.set(step.id, deps.size);
  }
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
