import type { SagaOrchestrator, SagaStepDefinition } from '../src/index';

/** Step ids a plain object mishandles: `__proto__` would set the prototype, the others shadow. */
export const UNSAFE_IDS = ['__proto__', 'constructor', 'prototype'] as const;

/** A chain over the unsafe ids, each step also depending on all before it. */
export function unsafeChain(): SagaStepDefinition[] {
  return UNSAFE_IDS.map((id, n) => ({
    id,
    name: id,
    service: 's',
    action: 'echo',
    compensationAction: 'undo',
    ...(n > 0 ? { dependencies: UNSAFE_IDS.slice(0, n) } : {}),
  }));
}

/** Handlers for {@link unsafeChain}: each returns what it saw of earlier results; `fail` fails. */
export function registerEcho(o: SagaOrchestrator, undone: string[]): void {
  o.registerStepHandler('echo', (step, _ctx, exec) => ({
    id: step.id,
    seen: Object.keys(exec.results),
    before: UNSAFE_IDS.filter((id) => Object.hasOwn(exec.results, id)).map((id) => exec.results[id]),
  }));
  o.registerStepHandler('fail', () => {
    throw new Error('fails after the others');
  });
  o.registerCompensationHandler('undo', (step, _ctx, exec) => {
    undone.push(`${step.id} ${JSON.stringify(exec.result)}`);
  });
}
