import { badRequest } from './bad-request';

const WORD = /^[A-Za-z0-9_-]+$/;

/**
 * Checks a subscription pattern: dot-separated words where `*` stands for exactly one word and `#`
 * for zero or more (AMQP topic-exchange semantics, so the in-memory bus routes exactly as the
 * broker does). `#` alone matches every event; `*` alone matches one-word types only.
 */
export function assertTopicPattern(pattern: unknown, field = 'pattern'): asserts pattern is string {
  const words = typeof pattern === 'string' && pattern.length <= 255 ? pattern.split('.') : undefined;
  if (words?.every((w) => w === '*' || w === '#' || WORD.test(w))) return;
  throw badRequest(
    `subscribe: ${field} must be dot-separated words, '*' (one word) or '#' (zero or more words), got ${JSON.stringify(pattern)}`,
    field,
  );
}

/** A compiled pattern: whether an event type matches it. */
export type TopicMatcher = (type: string) => boolean;

/** Compiles a pattern checked by {@link assertTopicPattern} into a matcher. */
export function compileTopicPattern(pattern: string): TopicMatcher {
  if (pattern === '#') return () => true;
  if (!pattern.includes('*') && !pattern.includes('#')) return (type) => type === pattern;
  const parts = pattern.split('.');
  return (type) => matchWords(parts, 0, type.split('.'), 0);
}

function matchWords(pattern: string[], p: number, words: string[], w: number): boolean {
  while (p < pattern.length) {
    const part = pattern[p]!;
    if (part === '#') {
      // `#` takes zero or more words: try every split (patterns are short).
      for (let skip = w; skip <= words.length; skip++)
        if (matchWords(pattern, p + 1, words, skip)) return true;
      return false;
    }
    if (w >= words.length) return false;
    if (part !== '*' && part !== words[w]) return false;
    p++;
    w++;
  }
  return w === words.length;
}
