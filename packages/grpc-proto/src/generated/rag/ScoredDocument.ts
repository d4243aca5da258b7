// Original file: proto/rag.proto

import type { Document as _rag_Document, Document__Output as _rag_Document__Output } from '../rag/Document';

export interface ScoredDocument {
  'document'?: (_rag_Document | null);
  /**
   * Similarity to the query, higher is closer.
   */
  'score'?: (number | string);
}

export interface ScoredDocument__Output {
  'document': (_rag_Document__Output | null);
  /**
   * Similarity to the query, higher is closer.
   */
  'score': (number);
}
