// Original file: proto/asr.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AudioChunk as _asr_AudioChunk, AudioChunk__Output as _asr_AudioChunk__Output } from '../asr/AudioChunk';
import type { HealthCheckRequest as _asr_HealthCheckRequest, HealthCheckRequest__Output as _asr_HealthCheckRequest__Output } from '../asr/HealthCheckRequest';
import type { HealthCheckResponse as _asr_HealthCheckResponse, HealthCheckResponse__Output as _asr_HealthCheckResponse__Output } from '../asr/HealthCheckResponse';
import type { TranscribeRequest as _asr_TranscribeRequest, TranscribeRequest__Output as _asr_TranscribeRequest__Output } from '../asr/TranscribeRequest';
import type { TranscribeResponse as _asr_TranscribeResponse, TranscribeResponse__Output as _asr_TranscribeResponse__Output } from '../asr/TranscribeResponse';
import type { TranscriptionResult as _asr_TranscriptionResult, TranscriptionResult__Output as _asr_TranscriptionResult__Output } from '../asr/TranscriptionResult';

/**
 * Transcribes speech. Transcribe and StreamTranscribe read audio and change nothing on the
 * server, so callers may retry them freely.
 */
export interface ASRServiceClient extends grpc.Client {
  HealthCheck(argument: _asr_HealthCheckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_asr_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  HealthCheck(argument: _asr_HealthCheckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_asr_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  HealthCheck(argument: _asr_HealthCheckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_asr_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  HealthCheck(argument: _asr_HealthCheckRequest, callback: grpc.requestCallback<_asr_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  healthCheck(argument: _asr_HealthCheckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_asr_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  healthCheck(argument: _asr_HealthCheckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_asr_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  healthCheck(argument: _asr_HealthCheckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_asr_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  healthCheck(argument: _asr_HealthCheckRequest, callback: grpc.requestCallback<_asr_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Audio chunks as they are captured; partial results come back as they stabilise and a
   * final result closes each utterance.
   */
  StreamTranscribe(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_asr_AudioChunk, _asr_TranscriptionResult__Output>;
  StreamTranscribe(options?: grpc.CallOptions): grpc.ClientDuplexStream<_asr_AudioChunk, _asr_TranscriptionResult__Output>;
  /**
   * Audio chunks as they are captured; partial results come back as they stabilise and a
   * final result closes each utterance.
   */
  streamTranscribe(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_asr_AudioChunk, _asr_TranscriptionResult__Output>;
  streamTranscribe(options?: grpc.CallOptions): grpc.ClientDuplexStream<_asr_AudioChunk, _asr_TranscriptionResult__Output>;
  
  /**
   * Whole utterance at once.
   */
  Transcribe(argument: _asr_TranscribeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_asr_TranscribeResponse__Output>): grpc.ClientUnaryCall;
  Transcribe(argument: _asr_TranscribeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_asr_TranscribeResponse__Output>): grpc.ClientUnaryCall;
  Transcribe(argument: _asr_TranscribeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_asr_TranscribeResponse__Output>): grpc.ClientUnaryCall;
  Transcribe(argument: _asr_TranscribeRequest, callback: grpc.requestCallback<_asr_TranscribeResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Whole utterance at once.
   */
  transcribe(argument: _asr_TranscribeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_asr_TranscribeResponse__Output>): grpc.ClientUnaryCall;
  transcribe(argument: _asr_TranscribeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_asr_TranscribeResponse__Output>): grpc.ClientUnaryCall;
  transcribe(argument: _asr_TranscribeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_asr_TranscribeResponse__Output>): grpc.ClientUnaryCall;
  transcribe(argument: _asr_TranscribeRequest, callback: grpc.requestCallback<_asr_TranscribeResponse__Output>): grpc.ClientUnaryCall;
  
}

/**
 * Transcribes speech. Transcribe and StreamTranscribe read audio and change nothing on the
 * server, so callers may retry them freely.
 */
export interface ASRServiceHandlers extends grpc.UntypedServiceImplementation {
  HealthCheck: grpc.handleUnaryCall<_asr_HealthCheckRequest__Output, _asr_HealthCheckResponse>;
  
  /**
   * Audio chunks as they are captured; partial results come back as they stabilise and a
   * final result closes each utterance.
   */
  StreamTranscribe: grpc.handleBidiStreamingCall<_asr_AudioChunk__Output, _asr_TranscriptionResult>;
  
  /**
   * Whole utterance at once.
   */
  Transcribe: grpc.handleUnaryCall<_asr_TranscribeRequest__Output, _asr_TranscribeResponse>;
  
}

export interface ASRServiceDefinition extends grpc.ServiceDefinition {
  HealthCheck: MethodDefinition<_asr_HealthCheckRequest, _asr_HealthCheckResponse, _asr_HealthCheckRequest__Output, _asr_HealthCheckResponse__Output>
  StreamTranscribe: MethodDefinition<_asr_AudioChunk, _asr_TranscriptionResult, _asr_AudioChunk__Output, _asr_TranscriptionResult__Output>
  Transcribe: MethodDefinition<_asr_TranscribeRequest, _asr_TranscribeResponse, _asr_TranscribeRequest__Output, _asr_TranscribeResponse__Output>
}
