import { describe, expect, it } from 'vitest';
import { assertTopicPattern, compileTopicPattern } from './topic-pattern';

describe('topic patterns (AMQP topic semantics)', () => {
  const cases: [pattern: string, type: string, matches: boolean][] = [
    ['sample.created', 'sample.created', true],
    ['sample.created', 'sample.created.v2', false],
    ['sample.*', 'sample.created', true],
    ['sample.*', 'sample', false],
    ['sample.*', 'sample.qc.passed', false],
    ['sample.#', 'sample', true],
    ['sample.#', 'sample.qc.passed', true],
    ['sample.#', 'samples.created', false],
    ['*', 'sample', true],
    ['*', 'sample.created', false],
    ['#', 'anything.at.all', true],
    ['#.failed', 'conversation.failed', true],
    ['#.failed', 'failed', true],
    ['*.*.passed', 'sample.qc.passed', true],
    ['a.#.z', 'a.z', true],
    ['a.#.z', 'a.b.c.z', true],
    ['a.#.z', 'a.b.c', false],
  ];
  it.each(cases)('%s against %s → %s', (pattern, type, matches) => {
    assertTopicPattern(pattern);
    expect(compileTopicPattern(pattern)(type)).toBe(matches);
  });

  it.each(['', 'a..b', '.a', 'a.', 'a b', 'sample.*x', 42])('refuses %j with BAD_REQUEST', (pattern) => {
    expect(() => assertTopicPattern(pattern)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });
});
