import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ASRServiceClient as _asr_ASRServiceClient, ASRServiceDefinition as _asr_ASRServiceDefinition } from './asr/ASRService';
import type { AudioChunk as _asr_AudioChunk, AudioChunk__Output as _asr_AudioChunk__Output } from './asr/AudioChunk';
import type { HealthCheckRequest as _asr_HealthCheckRequest, HealthCheckRequest__Output as _asr_HealthCheckRequest__Output } from './asr/HealthCheckRequest';
import type { HealthCheckResponse as _asr_HealthCheckResponse, HealthCheckResponse__Output as _asr_HealthCheckResponse__Output } from './asr/HealthCheckResponse';
import type { TranscribeRequest as _asr_TranscribeRequest, TranscribeRequest__Output as _asr_TranscribeRequest__Output } from './asr/TranscribeRequest';
import type { TranscribeResponse as _asr_TranscribeResponse, TranscribeResponse__Output as _asr_TranscribeResponse__Output } from './asr/TranscribeResponse';
import type { TranscriptionResult as _asr_TranscriptionResult, TranscriptionResult__Output as _asr_TranscriptionResult__Output } from './asr/TranscriptionResult';
import type { WordInfo as _asr_WordInfo, WordInfo__Output as _asr_WordInfo__Output } from './asr/WordInfo';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  asr: {
    /**
     * Transcribes speech. Transcribe and StreamTranscribe read audio and change nothing on the
     * server, so callers may retry them freely.
     */
    ASRService: SubtypeConstructor<typeof grpc.Client, _asr_ASRServiceClient> & { service: _asr_ASRServiceDefinition }
    AudioChunk: MessageTypeDefinition<_asr_AudioChunk, _asr_AudioChunk__Output>
    AudioEncoding: EnumTypeDefinition
    HealthCheckRequest: MessageTypeDefinition<_asr_HealthCheckRequest, _asr_HealthCheckRequest__Output>
    HealthCheckResponse: MessageTypeDefinition<_asr_HealthCheckResponse, _asr_HealthCheckResponse__Output>
    TranscribeRequest: MessageTypeDefinition<_asr_TranscribeRequest, _asr_TranscribeRequest__Output>
    TranscribeResponse: MessageTypeDefinition<_asr_TranscribeResponse, _asr_TranscribeResponse__Output>
    TranscriptionResult: MessageTypeDefinition<_asr_TranscriptionResult, _asr_TranscriptionResult__Output>
    WordInfo: MessageTypeDefinition<_asr_WordInfo, _asr_WordInfo__Output>
  }
}

