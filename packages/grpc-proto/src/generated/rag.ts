import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ClearCacheRequest as _rag_ClearCacheRequest, ClearCacheRequest__Output as _rag_ClearCacheRequest__Output } from './rag/ClearCacheRequest';
import type { ClearCacheResponse as _rag_ClearCacheResponse, ClearCacheResponse__Output as _rag_ClearCacheResponse__Output } from './rag/ClearCacheResponse';
import type { DeleteRequest as _rag_DeleteRequest, DeleteRequest__Output as _rag_DeleteRequest__Output } from './rag/DeleteRequest';
import type { DeleteResponse as _rag_DeleteResponse, DeleteResponse__Output as _rag_DeleteResponse__Output } from './rag/DeleteResponse';
import type { Document as _rag_Document, Document__Output as _rag_Document__Output } from './rag/Document';
import type { HealthCheckRequest as _rag_HealthCheckRequest, HealthCheckRequest__Output as _rag_HealthCheckRequest__Output } from './rag/HealthCheckRequest';
import type { HealthCheckResponse as _rag_HealthCheckResponse, HealthCheckResponse__Output as _rag_HealthCheckResponse__Output } from './rag/HealthCheckResponse';
import type { IngestRequest as _rag_IngestRequest, IngestRequest__Output as _rag_IngestRequest__Output } from './rag/IngestRequest';
import type { IngestResponse as _rag_IngestResponse, IngestResponse__Output as _rag_IngestResponse__Output } from './rag/IngestResponse';
import type { RAGServiceClient as _rag_RAGServiceClient, RAGServiceDefinition as _rag_RAGServiceDefinition } from './rag/RAGService';
import type { RetrieveRequest as _rag_RetrieveRequest, RetrieveRequest__Output as _rag_RetrieveRequest__Output } from './rag/RetrieveRequest';
import type { RetrieveResponse as _rag_RetrieveResponse, RetrieveResponse__Output as _rag_RetrieveResponse__Output } from './rag/RetrieveResponse';
import type { ScoredDocument as _rag_ScoredDocument, ScoredDocument__Output as _rag_ScoredDocument__Output } from './rag/ScoredDocument';
import type { UpsertRequest as _rag_UpsertRequest, UpsertRequest__Output as _rag_UpsertRequest__Output } from './rag/UpsertRequest';
import type { UpsertResponse as _rag_UpsertResponse, UpsertResponse__Output as _rag_UpsertResponse__Output } from './rag/UpsertResponse';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  rag: {
    ClearCacheRequest: MessageTypeDefinition<_rag_ClearCacheRequest, _rag_ClearCacheRequest__Output>
    ClearCacheResponse: MessageTypeDefinition<_rag_ClearCacheResponse, _rag_ClearCacheResponse__Output>
    DeleteRequest: MessageTypeDefinition<_rag_DeleteRequest, _rag_DeleteRequest__Output>
    DeleteResponse: MessageTypeDefinition<_rag_DeleteResponse, _rag_DeleteResponse__Output>
    Document: MessageTypeDefinition<_rag_Document, _rag_Document__Output>
    HealthCheckRequest: MessageTypeDefinition<_rag_HealthCheckRequest, _rag_HealthCheckRequest__Output>
    HealthCheckResponse: MessageTypeDefinition<_rag_HealthCheckResponse, _rag_HealthCheckResponse__Output>
    IngestRequest: MessageTypeDefinition<_rag_IngestRequest, _rag_IngestRequest__Output>
    IngestResponse: MessageTypeDefinition<_rag_IngestResponse, _rag_IngestResponse__Output>
    RAGService: SubtypeConstructor<typeof grpc.Client, _rag_RAGServiceClient> & { service: _rag_RAGServiceDefinition }
    RetrieveRequest: MessageTypeDefinition<_rag_RetrieveRequest, _rag_RetrieveRequest__Output>
    RetrieveResponse: MessageTypeDefinition<_rag_RetrieveResponse, _rag_RetrieveResponse__Output>
    ScoredDocument: MessageTypeDefinition<_rag_ScoredDocument, _rag_ScoredDocument__Output>
    UpsertRequest: MessageTypeDefinition<_rag_UpsertRequest, _rag_UpsertRequest__Output>
    UpsertResponse: MessageTypeDefinition<_rag_UpsertResponse, _rag_UpsertResponse__Output>
  }
}

