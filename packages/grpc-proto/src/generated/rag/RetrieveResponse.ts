// Original file: proto/rag.proto

import type { ScoredDocument as _rag_ScoredDocument, ScoredDocument__Output as _rag_ScoredDocument__Output } from '../rag/ScoredDocument';

export interface RetrieveResponse {
  'documents'?: (_rag_ScoredDocument)[];
}

export interface RetrieveResponse__Output {
  'documents': (_rag_ScoredDocument__Output)[];
}
