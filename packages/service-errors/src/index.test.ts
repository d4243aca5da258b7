/** The public surface: what a service team uses, nothing of how the policies meet inside. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as api from './index';

describe('the package index', () => {
  it('exports no internal helper', () => {
    const names = Object.keys(api);
    for (const internal of [
      'EXECUTE',
      'callOperation',
      'isLayer',
      'ChildContext',
      'NEVER_ABORTED',
      'ROOT_CONTEXT',
      'runWithDeadline',
      'runAbortable',
      'deadlineQueueFor',
      'DeadlineQueue',
      'serviceErrorWithoutStack',
      'hookFailed',
      'tripRuleFor',
      'TIMED_OUT',
      'clockOption',
      'loggerOption',
    ]) {
      expect(names).not.toContain(internal);
    }
    expect(typeof api.isThenable).toBe('function');
  });

  it('gives policies no public method beyond their documented ones', () => {
    // Every prototype up to Object's: a method a base class adds is public too.
    const publicMethods = (o: object) => {
      const names = new Set<string>();
      for (
        let p = Object.getPrototypeOf(o);
        p !== null && p !== Object.prototype;
        p = Object.getPrototypeOf(p)
      ) {
        for (const n of Object.getOwnPropertyNames(p)) if (n !== 'constructor') names.add(n);
      }
      return [...names];
    };
    expect(publicMethods(new api.CircuitBreaker()).sort()).toEqual(
      ['execute', 'getStats', 'isolate', 'on', 'reset', 'run', 'state', 'toJSON'].sort(),
    );
    expect(publicMethods(new api.RetryPolicy()).sort()).toEqual(['execute', 'on', 'run']);
    expect(publicMethods(new api.Timeout({ timeoutMs: 1 })).sort()).toEqual(['execute', 'on', 'run']);
    expect(publicMethods(api.compose(new api.RetryPolicy())).sort()).toEqual(['execute', 'run']);
  });

  it('leaves @internal members out of the built declarations', () => {
    let dts: string;
    try {
      dts = readFileSync(new URL('../dist/index.d.ts', import.meta.url), 'utf8');
    } catch {
      return; // sources-only runs; the packaging check builds and reads it
    }
    expect(dts).not.toContain('@internal');
    expect(dts).not.toMatch(/\bEXECUTE\b|fastHandlers|resumeAfter|timedOut/);
  });
});
