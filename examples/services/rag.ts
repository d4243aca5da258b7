import type { rag } from '@clone/grpc-proto';
import { CLONE_FACTS, KnowledgeBase } from '../lib/knowledge-base';
import {
  badRequest,
  type ExampleServiceOptions,
  healthCheck,
  type RunningService,
  startService,
} from './common';

/** Running state of the RAG service, readable by tests. */
export interface RAGState {
  /** Retrievals cached per session (dropped by `ClearCache`). */
  readonly cache: Map<string, rag.ScoredDocument[]>;
  /** Each user's knowledge base (a new user starts with `CLONE_FACTS`). */
  readonly users: Map<string, KnowledgeBase>;
}

/**
 * RAG: a per-user `KnowledgeBase` (lib/knowledge-base.ts) searched by shared terms. `Retrieve`
 * caches its result under the session, which `ClearCache` (the saga's compensation) drops.
 */
export async function startRAGService(
  options: ExampleServiceOptions = {},
): Promise<RunningService & { state: RAGState }> {
  const state: RAGState = { cache: new Map(), users: new Map() };
  let nextId = 1;
  const kb = (userId: string): KnowledgeBase => {
    if (userId === '') throw badRequest('user_id is required', 'rag');
    let base = state.users.get(userId);
    if (base === undefined) {
      base = new KnowledgeBase();
      for (const fact of CLONE_FACTS) base.upsert(fact);
      state.users.set(userId, base);
    }
    return base;
  };
  const running = await startService(
    'rag',
    {
      Retrieve: async (call) => {
        const { userId, query, topK, minScore, filter, sessionId } = call.request;
        if (query.trim() === '') throw badRequest('query is empty', 'rag');
        const base = kb(userId);
        const documents: rag.ScoredDocument[] = base
          .search(query, base.size)
          .filter((d) => d.score >= minScore)
          .filter((d) => Object.entries(filter).every(([k, v]) => d.metadata?.[k] === v))
          .slice(0, topK || 3)
          .map((d) => ({
            document: { id: d.id, content: d.text, metadata: d.metadata ?? {} },
            score: d.score,
          }));
        if (sessionId !== '') state.cache.set(sessionId, documents);
        return { documents };
      },
      Upsert: async (call) => {
        const base = kb(call.request.userId);
        for (const d of call.request.documents) {
          if (d.id === '') throw badRequest('every document needs an id', 'rag');
          base.upsert({ id: d.id, text: d.content, metadata: d.metadata });
        }
        return { upserted: call.request.documents.length };
      },
      Ingest: async (call) => {
        const documentId = `doc-${nextId++}`;
        kb(call.request.userId).upsert({
          id: documentId,
          text: call.request.content,
          metadata: call.request.metadata,
        });
        return { documentId };
      },
      Delete: async (call) => {
        const base = kb(call.request.userId);
        let deleted = 0;
        for (const id of call.request.ids) if (base.delete(id)) deleted++;
        return { deleted };
      },
      ClearCache: async (call) => ({ cleared: state.cache.delete(call.request.sessionId) }),
      HealthCheck: healthCheck('rag'),
    },
    {
      rag: ['rag:read'],
      '/rag.RAGService/Upsert': ['rag:write'],
      '/rag.RAGService/Ingest': ['rag:write'],
      '/rag.RAGService/Delete': ['rag:write'],
      '/rag.RAGService/ClearCache': ['rag:write'],
    },
    options,
  );
  return Object.assign(running, { state });
}
