// Original file: proto/lipsync.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { GenerateFramesRequest as _lipsync_GenerateFramesRequest, GenerateFramesRequest__Output as _lipsync_GenerateFramesRequest__Output } from '../lipsync/GenerateFramesRequest';
import type { HealthCheckRequest as _lipsync_HealthCheckRequest, HealthCheckRequest__Output as _lipsync_HealthCheckRequest__Output } from '../lipsync/HealthCheckRequest';
import type { HealthCheckResponse as _lipsync_HealthCheckResponse, HealthCheckResponse__Output as _lipsync_HealthCheckResponse__Output } from '../lipsync/HealthCheckResponse';
import type { VideoFrame as _lipsync_VideoFrame, VideoFrame__Output as _lipsync_VideoFrame__Output } from '../lipsync/VideoFrame';

export interface LipSyncServiceClient extends grpc.Client {
  /**
   * Frames are streamed as they are rendered, in order.
   */
  GenerateFrames(argument: _lipsync_GenerateFramesRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_lipsync_VideoFrame__Output>;
  GenerateFrames(argument: _lipsync_GenerateFramesRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_lipsync_VideoFrame__Output>;
  /**
   * Frames are streamed as they are rendered, in order.
   */
  generateFrames(argument: _lipsync_GenerateFramesRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_lipsync_VideoFrame__Output>;
  generateFrames(argument: _lipsync_GenerateFramesRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_lipsync_VideoFrame__Output>;
  
  HealthCheck(argument: _lipsync_HealthCheckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lipsync_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  HealthCheck(argument: _lipsync_HealthCheckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lipsync_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  HealthCheck(argument: _lipsync_HealthCheckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lipsync_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  HealthCheck(argument: _lipsync_HealthCheckRequest, callback: grpc.requestCallback<_lipsync_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  healthCheck(argument: _lipsync_HealthCheckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_lipsync_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  healthCheck(argument: _lipsync_HealthCheckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_lipsync_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  healthCheck(argument: _lipsync_HealthCheckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_lipsync_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  healthCheck(argument: _lipsync_HealthCheckRequest, callback: grpc.requestCallback<_lipsync_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface LipSyncServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Frames are streamed as they are rendered, in order.
   */
  GenerateFrames: grpc.handleServerStreamingCall<_lipsync_GenerateFramesRequest__Output, _lipsync_VideoFrame>;
  
  HealthCheck: grpc.handleUnaryCall<_lipsync_HealthCheckRequest__Output, _lipsync_HealthCheckResponse>;
  
}

export interface LipSyncServiceDefinition extends grpc.ServiceDefinition {
  GenerateFrames: MethodDefinition<_lipsync_GenerateFramesRequest, _lipsync_VideoFrame, _lipsync_GenerateFramesRequest__Output, _lipsync_VideoFrame__Output>
  HealthCheck: MethodDefinition<_lipsync_HealthCheckRequest, _lipsync_HealthCheckResponse, _lipsync_HealthCheckRequest__Output, _lipsync_HealthCheckResponse__Output>
}
