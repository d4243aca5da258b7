// Original file: proto/llm.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { GenerateChunk as _llm_GenerateChunk, GenerateChunk__Output as _llm_GenerateChunk__Output } from '../llm/GenerateChunk';
import type { GenerateRequest as _llm_GenerateRequest, GenerateRequest__Output as _llm_GenerateRequest__Output } from '../llm/GenerateRequest';
import type { GenerateResponse as _llm_GenerateResponse, GenerateResponse__Output as _llm_GenerateResponse__Output } from '../llm/GenerateResponse';
import type { HealthCheckRequest as _llm_HealthCheckRequest, HealthCheckRequest__Output as _llm_HealthCheckRequest__Output } from '../llm/HealthCheckRequest';
import type { HealthCheckResponse as _llm_HealthCheckResponse, HealthCheckResponse__Output as _llm_HealthCheckResponse__Output } from '../llm/HealthCheckResponse';

/**
 * Generates responses. Generation has no side effects on the server (sampling may differ
 * between attempts, which a retry accepts), so both rpcs are safe to retry.
 */
export interface LLMServiceClient extends grpc.Client {
  Generate(argument: _llm_GenerateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_llm_GenerateResponse__Output>): grpc.ClientUnaryCall;
  Generate(argument: _llm_GenerateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_llm_GenerateResponse__Output>): grpc.ClientUnaryCall;
  Generate(argument: _llm_GenerateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_llm_GenerateResponse__Output>): grpc.ClientUnaryCall;
  Generate(argument: _llm_GenerateRequest, callback: grpc.requestCallback<_llm_GenerateResponse__Output>): grpc.ClientUnaryCall;
  generate(argument: _llm_GenerateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_llm_GenerateResponse__Output>): grpc.ClientUnaryCall;
  generate(argument: _llm_GenerateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_llm_GenerateResponse__Output>): grpc.ClientUnaryCall;
  generate(argument: _llm_GenerateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_llm_GenerateResponse__Output>): grpc.ClientUnaryCall;
  generate(argument: _llm_GenerateRequest, callback: grpc.requestCallback<_llm_GenerateResponse__Output>): grpc.ClientUnaryCall;
  
  HealthCheck(argument: _llm_HealthCheckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_llm_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  HealthCheck(argument: _llm_HealthCheckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_llm_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  HealthCheck(argument: _llm_HealthCheckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_llm_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  HealthCheck(argument: _llm_HealthCheckRequest, callback: grpc.requestCallback<_llm_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  healthCheck(argument: _llm_HealthCheckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_llm_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  healthCheck(argument: _llm_HealthCheckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_llm_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  healthCheck(argument: _llm_HealthCheckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_llm_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  healthCheck(argument: _llm_HealthCheckRequest, callback: grpc.requestCallback<_llm_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The same request, answered token by token so speech synthesis can start early.
   */
  StreamGenerate(argument: _llm_GenerateRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_llm_GenerateChunk__Output>;
  StreamGenerate(argument: _llm_GenerateRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_llm_GenerateChunk__Output>;
  /**
   * The same request, answered token by token so speech synthesis can start early.
   */
  streamGenerate(argument: _llm_GenerateRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_llm_GenerateChunk__Output>;
  streamGenerate(argument: _llm_GenerateRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_llm_GenerateChunk__Output>;
  
}

/**
 * Generates responses. Generation has no side effects on the server (sampling may differ
 * between attempts, which a retry accepts), so both rpcs are safe to retry.
 */
export interface LLMServiceHandlers extends grpc.UntypedServiceImplementation {
  Generate: grpc.handleUnaryCall<_llm_GenerateRequest__Output, _llm_GenerateResponse>;
  
  HealthCheck: grpc.handleUnaryCall<_llm_HealthCheckRequest__Output, _llm_HealthCheckResponse>;
  
  /**
   * The same request, answered token by token so speech synthesis can start early.
   */
  StreamGenerate: grpc.handleServerStreamingCall<_llm_GenerateRequest__Output, _llm_GenerateChunk>;
  
}

export interface LLMServiceDefinition extends grpc.ServiceDefinition {
  Generate: MethodDefinition<_llm_GenerateRequest, _llm_GenerateResponse, _llm_GenerateRequest__Output, _llm_GenerateResponse__Output>
  HealthCheck: MethodDefinition<_llm_HealthCheckRequest, _llm_HealthCheckResponse, _llm_HealthCheckRequest__Output, _llm_HealthCheckResponse__Output>
  StreamGenerate: MethodDefinition<_llm_GenerateRequest, _llm_GenerateChunk, _llm_GenerateRequest__Output, _llm_GenerateChunk__Output>
}
