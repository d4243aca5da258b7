// Original file: proto/tts.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AudioChunk as _tts_AudioChunk, AudioChunk__Output as _tts_AudioChunk__Output } from '../tts/AudioChunk';
import type { HealthCheckRequest as _tts_HealthCheckRequest, HealthCheckRequest__Output as _tts_HealthCheckRequest__Output } from '../tts/HealthCheckRequest';
import type { HealthCheckResponse as _tts_HealthCheckResponse, HealthCheckResponse__Output as _tts_HealthCheckResponse__Output } from '../tts/HealthCheckResponse';
import type { ListVoicesRequest as _tts_ListVoicesRequest, ListVoicesRequest__Output as _tts_ListVoicesRequest__Output } from '../tts/ListVoicesRequest';
import type { ListVoicesResponse as _tts_ListVoicesResponse, ListVoicesResponse__Output as _tts_ListVoicesResponse__Output } from '../tts/ListVoicesResponse';
import type { ReleaseAudioRequest as _tts_ReleaseAudioRequest, ReleaseAudioRequest__Output as _tts_ReleaseAudioRequest__Output } from '../tts/ReleaseAudioRequest';
import type { ReleaseAudioResponse as _tts_ReleaseAudioResponse, ReleaseAudioResponse__Output as _tts_ReleaseAudioResponse__Output } from '../tts/ReleaseAudioResponse';
import type { SynthesizeRequest as _tts_SynthesizeRequest, SynthesizeRequest__Output as _tts_SynthesizeRequest__Output } from '../tts/SynthesizeRequest';

export interface TTSServiceClient extends grpc.Client {
  HealthCheck(argument: _tts_HealthCheckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tts_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  HealthCheck(argument: _tts_HealthCheckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tts_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  HealthCheck(argument: _tts_HealthCheckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tts_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  HealthCheck(argument: _tts_HealthCheckRequest, callback: grpc.requestCallback<_tts_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  healthCheck(argument: _tts_HealthCheckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tts_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  healthCheck(argument: _tts_HealthCheckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tts_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  healthCheck(argument: _tts_HealthCheckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tts_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  healthCheck(argument: _tts_HealthCheckRequest, callback: grpc.requestCallback<_tts_HealthCheckResponse__Output>): grpc.ClientUnaryCall;
  
  ListVoices(argument: _tts_ListVoicesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tts_ListVoicesResponse__Output>): grpc.ClientUnaryCall;
  ListVoices(argument: _tts_ListVoicesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tts_ListVoicesResponse__Output>): grpc.ClientUnaryCall;
  ListVoices(argument: _tts_ListVoicesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tts_ListVoicesResponse__Output>): grpc.ClientUnaryCall;
  ListVoices(argument: _tts_ListVoicesRequest, callback: grpc.requestCallback<_tts_ListVoicesResponse__Output>): grpc.ClientUnaryCall;
  listVoices(argument: _tts_ListVoicesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tts_ListVoicesResponse__Output>): grpc.ClientUnaryCall;
  listVoices(argument: _tts_ListVoicesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tts_ListVoicesResponse__Output>): grpc.ClientUnaryCall;
  listVoices(argument: _tts_ListVoicesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tts_ListVoicesResponse__Output>): grpc.ClientUnaryCall;
  listVoices(argument: _tts_ListVoicesRequest, callback: grpc.requestCallback<_tts_ListVoicesResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Frees audio buffered for a session (saga compensation of a synthesis).
   */
  ReleaseAudio(argument: _tts_ReleaseAudioRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tts_ReleaseAudioResponse__Output>): grpc.ClientUnaryCall;
  ReleaseAudio(argument: _tts_ReleaseAudioRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tts_ReleaseAudioResponse__Output>): grpc.ClientUnaryCall;
  ReleaseAudio(argument: _tts_ReleaseAudioRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tts_ReleaseAudioResponse__Output>): grpc.ClientUnaryCall;
  ReleaseAudio(argument: _tts_ReleaseAudioRequest, callback: grpc.requestCallback<_tts_ReleaseAudioResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Frees audio buffered for a session (saga compensation of a synthesis).
   */
  releaseAudio(argument: _tts_ReleaseAudioRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tts_ReleaseAudioResponse__Output>): grpc.ClientUnaryCall;
  releaseAudio(argument: _tts_ReleaseAudioRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tts_ReleaseAudioResponse__Output>): grpc.ClientUnaryCall;
  releaseAudio(argument: _tts_ReleaseAudioRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tts_ReleaseAudioResponse__Output>): grpc.ClientUnaryCall;
  releaseAudio(argument: _tts_ReleaseAudioRequest, callback: grpc.requestCallback<_tts_ReleaseAudioResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Audio is streamed as it is produced, so playback starts before synthesis ends.
   */
  Synthesize(argument: _tts_SynthesizeRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tts_AudioChunk__Output>;
  Synthesize(argument: _tts_SynthesizeRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tts_AudioChunk__Output>;
  /**
   * Audio is streamed as it is produced, so playback starts before synthesis ends.
   */
  synthesize(argument: _tts_SynthesizeRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tts_AudioChunk__Output>;
  synthesize(argument: _tts_SynthesizeRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tts_AudioChunk__Output>;
  
}

export interface TTSServiceHandlers extends grpc.UntypedServiceImplementation {
  HealthCheck: grpc.handleUnaryCall<_tts_HealthCheckRequest__Output, _tts_HealthCheckResponse>;
  
  ListVoices: grpc.handleUnaryCall<_tts_ListVoicesRequest__Output, _tts_ListVoicesResponse>;
  
  /**
   * Frees audio buffered for a session (saga compensation of a synthesis).
   */
  ReleaseAudio: grpc.handleUnaryCall<_tts_ReleaseAudioRequest__Output, _tts_ReleaseAudioResponse>;
  
  /**
   * Audio is streamed as it is produced, so playback starts before synthesis ends.
   */
  Synthesize: grpc.handleServerStreamingCall<_tts_SynthesizeRequest__Output, _tts_AudioChunk>;
  
}

export interface TTSServiceDefinition extends grpc.ServiceDefinition {
  HealthCheck: MethodDefinition<_tts_HealthCheckRequest, _tts_HealthCheckResponse, _tts_HealthCheckRequest__Output, _tts_HealthCheckResponse__Output>
  ListVoices: MethodDefinition<_tts_ListVoicesRequest, _tts_ListVoicesResponse, _tts_ListVoicesRequest__Output, _tts_ListVoicesResponse__Output>
  ReleaseAudio: MethodDefinition<_tts_ReleaseAudioRequest, _tts_ReleaseAudioResponse, _tts_ReleaseAudioRequest__Output, _tts_ReleaseAudioResponse__Output>
  Synthesize: MethodDefinition<_tts_SynthesizeRequest, _tts_AudioChunk, _tts_SynthesizeRequest__Output, _tts_AudioChunk__Output>
}
