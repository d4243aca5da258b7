// Original file: proto/rag.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ClearCacheRequest as _rag_ClearCacheRequest, ClearCacheRequest__Output as _rag_ClearCacheRequest__Output } from '../rag/ClearCacheRequest';
import type { ClearCacheResponse as _rag_ClearCacheResponse, ClearCacheResponse__Output as _rag_ClearCacheResponse__Output } from '../rag/ClearCacheResponse';
import type { DeleteRequest as _rag_DeleteRequest, DeleteRequest__Output as _rag_DeleteRequest__Output } from '../rag/DeleteRequest';
import type { DeleteResponse as _rag_DeleteResponse, DeleteResponse__Output as _rag_DeleteResponse__Output } from '../rag/DeleteResponse';
import type { HealthCheckRequest as _rag_HealthCheckRequest, HealthCheckRequest__Output as _rag_HealthCheckRequest__Output } from '../rag/HealthCheckRequest';
import type { HealthCheckResponse as _rag_HealthCheckResponse, HealthCheckResponse__Output as _rag_HealthCheckResponse__Output } from '../rag/HealthCheckResponse';
import type { IngestRequest as _rag_IngestRequest, IngestRequest__Output as _rag_IngestRequest__Output } from '../rag/IngestRequest';
import type { IngestResponse as _rag_IngestResponse, IngestResponse__Output as _rag_IngestResponse__Output } from '../rag/IngestResponse';
import type { RetrieveRequest as _rag_RetrieveRequest, RetrieveRequest__Output as _rag_RetrieveRequest__Output } from '../rag/RetrieveRequest';
import type { RetrieveResponse as _rag_RetrieveResponse, RetrieveResponse__Output as _rag_RetrieveResponse__Output } from '../rag/RetrieveResponse';
import type { UpsertRequest as _rag_UpsertRequest, UpsertRequest__Output as _rag_UpsertRequest__Output } from '../rag/UpsertRequest';
import type { UpsertResponse as _rag_UpsertResponse, UpsertResponse__Output as _rag_UpsertResponse__Output } from '../rag/UpsertResponse';

export interface RAGServiceClient extends grpc.Client {
  /**
   * Drops the context cached for a session (saga compensation of a retrieval).
   */
  ClearCache(argument: _rag_ClearCacheRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_ClearCacheResponse__Output>): grpc.ClientUnaryCall;
  ClearCache(argument: _rag_ClearCacheRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_rag_ClearCacheResponse__Output>): grpc.ClientUnaryCall;
  ClearCache(argument: _rag_ClearCacheRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_ClearCacheResponse__Output>): grpc.ClientUnaryCall;
  ClearCache(argument: _rag_ClearCacheRequest, callback: grpc.requestCallback<_rag_ClearCacheResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Drops the context cached for a session (saga compensation of a retrieval).
   */
  clearCache(argument: _rag_ClearCacheRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_ClearCacheResponse__Output>): grpc.ClientUnaryCall;
  clearCache(argument: _rag_ClearCacheRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_rag_ClearCacheResponse__Output>): grpc.ClientUnaryCall;
  clearCache(argument: _rag_ClearCacheRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_ClearCacheResponse__Output>): grpc.ClientUnaryCall;
  clearCache(argument: _rag_ClearCacheRequest, callback: grpc.requestCallback<_rag_ClearCacheResponse__Output>): grpc.ClientUnaryCall;
  
  Delete(argument: _rag_DeleteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _rag_DeleteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_rag_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _rag_DeleteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _rag_DeleteRequest, callback: grpc.requestCallback<_rag_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _rag_DeleteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _rag_DeleteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_rag_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _rag_DeleteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _rag_DeleteRequest, callback: grpc.requestCallback<_rag_DeleteResponse__Output>): grpc.ClientUnaryCall;
  
  HealthCheck(argument: _rag_HealthCheckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  HealthCheck(argument: _rag_HealthCheckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_rag_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  HealthCheck(argument: _rag_HealthCheckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  HealthCheck(argument: _rag_HealthCheckRequest, callback: grpc.requestCallback<_rag_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  healthCheck(argument: _rag_HealthCheckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  healthCheck(argument: _rag_HealthCheckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_rag_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  healthCheck(argument: _rag_HealthCheckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  healthCheck(argument: _rag_HealthCheckRequest, callback: grpc.requestCallback<_rag_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Adds a document under an id the server assigns: a repeat adds a second copy, so it is
   * never retried automatically.
   */
  Ingest(argument: _rag_IngestRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_IngestResponse__Output>): grpc.ClientUnaryCall;
  Ingest(argument: _rag_IngestRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_rag_IngestResponse__Output>): grpc.ClientUnaryCall;
  Ingest(argument: _rag_IngestRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_IngestResponse__Output>): grpc.ClientUnaryCall;
  Ingest(argument: _rag_IngestRequest, callback: grpc.requestCallback<_rag_IngestResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Adds a document under an id the server assigns: a repeat adds a second copy, so it is
   * never retried automatically.
   */
  ingest(argument: _rag_IngestRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_IngestResponse__Output>): grpc.ClientUnaryCall;
  ingest(argument: _rag_IngestRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_rag_IngestResponse__Output>): grpc.ClientUnaryCall;
  ingest(argument: _rag_IngestRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_IngestResponse__Output>): grpc.ClientUnaryCall;
  ingest(argument: _rag_IngestRequest, callback: grpc.requestCallback<_rag_IngestResponse__Output>): grpc.ClientUnaryCall;
  
  Retrieve(argument: _rag_RetrieveRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_RetrieveResponse__Output>): grpc.ClientUnaryCall;
  Retrieve(argument: _rag_RetrieveRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_rag_RetrieveResponse__Output>): grpc.ClientUnaryCall;
  Retrieve(argument: _rag_RetrieveRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_RetrieveResponse__Output>): grpc.ClientUnaryCall;
  Retrieve(argument: _rag_RetrieveRequest, callback: grpc.requestCallback<_rag_RetrieveResponse__Output>): grpc.ClientUnaryCall;
  retrieve(argument: _rag_RetrieveRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_RetrieveResponse__Output>): grpc.ClientUnaryCall;
  retrieve(argument: _rag_RetrieveRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_rag_RetrieveResponse__Output>): grpc.ClientUnaryCall;
  retrieve(argument: _rag_RetrieveRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_RetrieveResponse__Output>): grpc.ClientUnaryCall;
  retrieve(argument: _rag_RetrieveRequest, callback: grpc.requestCallback<_rag_RetrieveResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Writes documents under the ids given: repeating it leaves the same state.
   */
  Upsert(argument: _rag_UpsertRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_UpsertResponse__Output>): grpc.ClientUnaryCall;
  Upsert(argument: _rag_UpsertRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_rag_UpsertResponse__Output>): grpc.ClientUnaryCall;
  Upsert(argument: _rag_UpsertRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_UpsertResponse__Output>): grpc.ClientUnaryCall;
  Upsert(argument: _rag_UpsertRequest, callback: grpc.requestCallback<_rag_UpsertResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Writes documents under the ids given: repeating it leaves the same state.
   */
  upsert(argument: _rag_UpsertRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_UpsertResponse__Output>): grpc.ClientUnaryCall;
  upsert(argument: _rag_UpsertRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_rag_UpsertResponse__Output>): grpc.ClientUnaryCall;
  upsert(argument: _rag_UpsertRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_rag_UpsertResponse__Output>): grpc.ClientUnaryCall;
  upsert(argument: _rag_UpsertRequest, callback: grpc.requestCallback<_rag_UpsertResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface RAGServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Drops the context cached for a session (saga compensation of a retrieval).
   */
  ClearCache: grpc.handleUnaryCall<_rag_ClearCacheRequest__Output, _rag_ClearCacheResponse>;
  
  Delete: grpc.handleUnaryCall<_rag_DeleteRequest__Output, _rag_DeleteResponse>;
  
  HealthCheck: grpc.handleUnaryCall<_rag_HealthCheckRequest__Output, _rag_HealthCheckResponse>;
  
  /**
   * Adds a document under an id the server assigns: a repeat adds a second copy, so it is
   * never retried automatically.
   */
  Ingest: grpc.handleUnaryCall<_rag_IngestRequest__Output, _rag_IngestResponse>;
  
  Retrieve: grpc.handleUnaryCall<_rag_RetrieveRequest__Output, _rag_RetrieveResponse>;
  
  /**
   * Writes documents under the ids given: repeating it leaves the same state.
   */
  Upsert: grpc.handleUnaryCall<_rag_UpsertRequest__Output, _rag_UpsertResponse>;
  
}

export interface RAGServiceDefinition extends grpc.ServiceDefinition {
  ClearCache: MethodDefinition<_rag_ClearCacheRequest, _rag_ClearCacheResponse, _rag_ClearCacheRequest__Output, _rag_ClearCacheResponse__Output>
  Delete: MethodDefinition<_rag_DeleteRequest, _rag_DeleteResponse, _rag_DeleteRequest__Output, _rag_DeleteResponse__Output>
  HealthCheck: MethodDefinition<_rag_HealthCheckRequest, _rag_HealthCheckResponse, _rag_HealthCheckRequest__Output, _rag_HealthCheckResponse__Output>
  Ingest: MethodDefinition<_rag_IngestRequest, _rag_IngestResponse, _rag_IngestRequest__Output, _rag_IngestResponse__Output>
  Retrieve: MethodDefinition<_rag_RetrieveRequest, _rag_RetrieveResponse, _rag_RetrieveRequest__Output, _rag_RetrieveResponse__Output>
  Upsert: MethodDefinition<_rag_UpsertRequest, _rag_UpsertResponse, _rag_UpsertRequest__Output, _rag_UpsertResponse__Output>
}
