/** The shared `next` of every array, Set and Map iterator (for-of, spread, `new Set(array)` …). */
const iteratorPrototypes = [
  Object.getPrototypeOf([][Symbol.iterator]()),
  Object.getPrototypeOf(new Set()[Symbol.iterator]()),
  Object.getPrototypeOf(new Map()[Symbol.iterator]()),
] as Array<{ next(this: Iterator<unknown>): IteratorResult<unknown> }>;

/**
 * How many elements array, Set and Map iterators hand out while `fn` runs: a count of work that
 * does not depend on the machine's speed, so a test can tell linear from quadratic without a
 * timing threshold. (It makes iteration slower for the rest of the test file: V8 leaves its
 * fast path once the iterator is patched.)
 */
export async function elementsIterated(fn: () => unknown): Promise<number> {
  let count = 0;
  const originals = iteratorPrototypes.map((proto) => proto.next);
  iteratorPrototypes.forEach((proto, i) => {
    const next = originals[i]!;
    proto.next = function (this: Iterator<unknown>) {
      count++;
      return next.call(this);
    };
  });
  try {
    await fn();
  } finally {
    iteratorPrototypes.forEach((proto, i) => {
      proto.next = originals[i]!;
    });
  }
  return count;
}
