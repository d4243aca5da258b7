import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AudioChunk as _tts_AudioChunk, AudioChunk__Output as _tts_AudioChunk__Output } from './tts/AudioChunk';
import type { HealthCheckRequest as _tts_HealthCheckRequest, HealthCheckRequest__Output as _tts_HealthCheckRequest__Output } from './tts/HealthCheckRequest';
import type { HealthCheckResponse as _tts_HealthCheckResponse, HealthCheckResponse__Output as _tts_HealthCheckResponse__Output } from './tts/HealthCheckResponse';
import type { ListVoicesRequest as _tts_ListVoicesRequest, ListVoicesRequest__Output as _tts_ListVoicesRequest__Output } from './tts/ListVoicesRequest';
import type { ListVoicesResponse as _tts_ListVoicesResponse, ListVoicesResponse__Output as _tts_ListVoicesResponse__Output } from './tts/ListVoicesResponse';
import type { ReleaseAudioRequest as _tts_ReleaseAudioRequest, ReleaseAudioRequest__Output as _tts_ReleaseAudioRequest__Output } from './tts/ReleaseAudioRequest';
import type { ReleaseAudioResponse as _tts_ReleaseAudioResponse, ReleaseAudioResponse__Output as _tts_ReleaseAudioResponse__Output } from './tts/ReleaseAudioResponse';
import type { SynthesizeRequest as _tts_SynthesizeRequest, SynthesizeRequest__Output as _tts_SynthesizeRequest__Output } from './tts/SynthesizeRequest';
import type { TTSServiceClient as _tts_TTSServiceClient, TTSServiceDefinition as _tts_TTSServiceDefinition } from './tts/TTSService';
import type { Voice as _tts_Voice, Voice__Output as _tts_Voice__Output } from './tts/Voice';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  tts: {
    AudioChunk: MessageTypeDefinition<_tts_AudioChunk, _tts_AudioChunk__Output>
    AudioEncoding: EnumTypeDefinition
    HealthCheckRequest: MessageTypeDefinition<_tts_HealthCheckRequest, _tts_HealthCheckRequest__Output>
    HealthCheckResponse: MessageTypeDefinition<_tts_HealthCheckResponse, _tts_HealthCheckResponse__Output>
    ListVoicesRequest: MessageTypeDefinition<_tts_ListVoicesRequest, _tts_ListVoicesRequest__Output>
    ListVoicesResponse: MessageTypeDefinition<_tts_ListVoicesResponse, _tts_ListVoicesResponse__Output>
    ReleaseAudioRequest: MessageTypeDefinition<_tts_ReleaseAudioRequest, _tts_ReleaseAudioRequest__Output>
    ReleaseAudioResponse: MessageTypeDefinition<_tts_ReleaseAudioResponse, _tts_ReleaseAudioResponse__Output>
    SynthesizeRequest: MessageTypeDefinition<_tts_SynthesizeRequest, _tts_SynthesizeRequest__Output>
    TTSService: SubtypeConstructor<typeof grpc.Client, _tts_TTSServiceClient> & { service: _tts_TTSServiceDefinition }
    Voice: MessageTypeDefinition<_tts_Voice, _tts_Voice__Output>
  }
}

