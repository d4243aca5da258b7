import { randomUUID } from 'node:crypto';

/**
 * A random id (UUID v4). `random` replaces the source, for tests that need repeatable ids: it
 * is called once per id and its result used as given.
 */
export function randomId(random?: () => string): string {
  return random === undefined ? randomUUID() : random();
}
