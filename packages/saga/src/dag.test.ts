import { describe, expect, it } from 'vitest';
import { badRequestFrom } from '../test/bad-request';
import { elementsIterated } from '../test/count-iteration';
import { validateSteps } from './dag';

const rejection = badRequestFrom;

describe('validateSteps', () => {
  it('checks 30,000 repeats of one dependency in time linear in them', () => {
    // The quadratic check took about 40 s for this definition, past the test timeout.
    const dependencies = Array.from({ length: 30_000 }, () => 'a');
    const defs = validateSteps([
      { id: 'a', name: 'a', service: 's', action: 'a' },
      { id: 'b', name: 'b', service: 's', action: 'b', dependencies },
      { id: 'c', name: 'c', service: 's', action: 'c', dependencies: [...dependencies, 'b'] },
    ]);
    expect(defs.map((d) => d.id)).toEqual(['a', 'b', 'c']);
    expect(defs[1]!.dependencies).toHaveLength(30_000);
    // Repeats do not hide a cycle or an unknown step.
    expect(
      rejection(() =>
        validateSteps([
          { id: 'a', name: 'a', service: 's', action: 'a', dependencies: ['b', 'b'] },
          { id: 'b', name: 'b', service: 's', action: 'b', dependencies: [...dependencies] },
        ]),
      ).message,
    ).toContain('cycle: a, b');
    expect(
      rejection(() =>
        validateSteps([{ id: 'a', name: 'a', service: 's', action: 'a', dependencies: ['x', 'x'] }]),
      ).message,
    ).toContain("unknown step 'x'");
  });

  it('does work linear in the dependencies listed, repeats included (counted, not timed)', async () => {
    const saga = (repeats: number) => {
      const dependencies = Array.from({ length: repeats }, () => 'a');
      return [
        { id: 'a', name: 'a', service: 's', action: 'a' },
        { id: 'b', name: 'b', service: 's', action: 'b', dependencies },
        { id: 'c', name: 'c', service: 's', action: 'c', dependencies: [...dependencies, 'b'] },
      ];
    };
    const small = saga(3_000);
    const large = saga(30_000);
    // The quadratic check copied the list of dependents once per dependency: 18 million
    // elements for 3,000 repeats (and 40 s of blocked event loop for 30,000).
    const few = await elementsIterated(() => validateSteps(small));
    expect(few).toBeLessThan(10 * 6_000);
    const many = await elementsIterated(() => validateSteps(large));
    expect(many).toBeLessThan(10 * 60_000);
    expect(many / few).toBeLessThan(11);
  });

  it('bounds a step timeout by what a timer holds, naming the step', () => {
    const error = rejection(() =>
      validateSteps([{ id: 'charge', name: 'Charge', service: 's', action: 'a', timeout: 2 ** 31 }]),
    );
    expect(error.message).toContain("step 'charge'");
    expect(error.message).toContain(
      'timeout must be an integer number of milliseconds between 1 and 2147483647',
    );
    expect(
      validateSteps([{ id: 'a', name: 'a', service: 's', action: 'a', timeout: 2 ** 31 - 1 }])[0]!.timeout,
    ).toBe(2 ** 31 - 1);
    expect(
      rejection(() => validateSteps([{ id: 'a', name: 'a', service: 's', action: 'a', timeout: 1.5 }]))
        .message,
    ).toContain("step 'a': timeout");
    // A step without a usable id is named by its position.
    expect(rejection(() => validateSteps([{ name: 'a', service: 's', action: 'a' }])).message).toContain(
      'step #0',
    );
  });

  it('reports a definition whose getters throw as BAD_REQUEST, with what it threw as cause', () => {
    const thrown = new Error('getter');
    const step = {
      id: 'a',
      name: 'a',
      service: 's',
      get action(): string {
        throw thrown;
      },
    };
    const error = rejection(() => validateSteps([step]));
    expect(error.message).toContain("step 'a' could not be read");
    expect(error.cause).toBe(thrown);
  });

  it("takes '__proto__', 'constructor' and 'prototype' as ordinary step ids", () => {
    const defs = validateSteps([
      { id: '__proto__', name: 'p', service: 's', action: 'a' },
      { id: 'constructor', name: 'c', service: 's', action: 'a', dependencies: ['__proto__'] },
      { id: 'prototype', name: 'q', service: 's', action: 'a', dependencies: ['constructor', '__proto__'] },
    ]);
    expect(defs.map((d) => d.id)).toEqual(['__proto__', 'constructor', 'prototype']);
    expect(
      rejection(() =>
        validateSteps([{ id: 'a', name: 'a', service: 's', action: 'a', dependencies: ['constructor'] }]),
      ).message,
    ).toContain("unknown step 'constructor'");
  });
});
