/**
 * The RAG example's store: documents scored by shared terms (BM25-lite), deterministic and
 * in memory. Enough to make "retrieve context for this transcript" a real lookup.
 */
export interface KnowledgeDocument {
  id: string;
  text: string;
  metadata?: Record<string, string>;
}

export interface ScoredDocument extends KnowledgeDocument {
  score: number;
}

const STOP = new Set([
  'a',
  'an',
  'the',
  'is',
  'are',
  'to',
  'of',
  'and',
  'or',
  'in',
  'on',
  'for',
  'what',
  'how',
  'do',
  'i',
  'you',
  'my',
  'me',
  'it',
  'can',
]);

export const terms = (text: string): string[] =>
  text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((t) => t.length > 1 && !STOP.has(t));

export class KnowledgeBase {
  readonly #docs = new Map<string, { doc: KnowledgeDocument; terms: Set<string> }>();

  upsert(doc: KnowledgeDocument): void {
    this.#docs.set(doc.id, { doc, terms: new Set(terms(doc.text)) });
  }

  delete(id: string): boolean {
    return this.#docs.delete(id);
  }

  get size(): number {
    return this.#docs.size;
  }

  search(query: string, topK = 3): ScoredDocument[] {
    const q = terms(query);
    const n = this.#docs.size;
    const scored: ScoredDocument[] = [];
    for (const { doc, terms: docTerms } of this.#docs.values()) {
      let score = 0;
      for (const t of q) {
        if (!docTerms.has(t)) continue;
        let df = 0;
        for (const other of this.#docs.values()) if (other.terms.has(t)) df++;
        score += Math.log(1 + n / df);
      }
      if (score > 0) scored.push({ ...doc, score: Number(score.toFixed(4)) });
    }
    return scored.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id)).slice(0, topK);
  }
}

/** What the demo's clone knows about itself. */
export const CLONE_FACTS: KnowledgeDocument[] = [
  { id: 'bio-1', text: 'I grew up in Lisbon and moved to Berlin to work on distributed systems.' },
  { id: 'bio-2', text: 'My favourite food is grilled sardines with a glass of vinho verde.' },
  { id: 'work-1', text: 'At work I build resilient gRPC services with circuit breakers and retries.' },
  { id: 'hobby-1', text: 'On weekends I climb, sail on the Wannsee and play the piano badly.' },
  { id: 'pets-1', text: 'I have a grey cat called Paxos who ignores every leader election.' },
];
