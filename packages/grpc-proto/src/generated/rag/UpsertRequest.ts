// Original file: proto/rag.proto

import type { Document as _rag_Document, Document__Output as _rag_Document__Output } from '../rag/Document';

export interface UpsertRequest {
  'userId'?: (string);
  'documents'?: (_rag_Document)[];
}

export interface UpsertRequest__Output {
  'userId': (string);
  'documents': (_rag_Document__Output)[];
}
