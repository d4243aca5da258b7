import { terms } from './knowledge-base';

/**
 * The LLM example: a deterministic responder that answers from retrieved context. It picks the
 * context sentence sharing the most terms with the question and phrases a reply around it, so
 * the same conversation always yields the same answer (and the demo's output is reproducible).
 */
export function respond(prompt: string, context: string[]): string {
  const question = new Set(terms(prompt));
  let best: string | undefined;
  let bestScore = 0;
  for (const sentence of context) {
    const score = terms(sentence).filter((t) => question.has(t)).length;
    if (score > bestScore) {
      best = sentence;
      bestScore = score;
    }
  }
  if (best === undefined)
    return `Good question. I would rather hear what you think about "${prompt.trim()}".`;
  return `${best} Anything else you would like to know?`;
}

/** Splits a response into the tokens a streaming rpc sends (words with their spacing). */
export const tokenize = (text: string): string[] => text.match(/\S+\s*/g) ?? [];
