import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { GenerateFramesRequest as _lipsync_GenerateFramesRequest, GenerateFramesRequest__Output as _lipsync_GenerateFramesRequest__Output } from './lipsync/GenerateFramesRequest';
import type { HealthCheckRequest as _lipsync_HealthCheckRequest, HealthCheckRequest__Output as _lipsync_HealthCheckRequest__Output } from './lipsync/HealthCheckRequest';
import type { HealthCheckResponse as _lipsync_HealthCheckResponse, HealthCheckResponse__Output as _lipsync_HealthCheckResponse__Output } from './lipsync/HealthCheckResponse';
import type { LipSyncServiceClient as _lipsync_LipSyncServiceClient, LipSyncServiceDefinition as _lipsync_LipSyncServiceDefinition } from './lipsync/LipSyncService';
import type { VideoFrame as _lipsync_VideoFrame, VideoFrame__Output as _lipsync_VideoFrame__Output } from './lipsync/VideoFrame';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  lipsync: {
    GenerateFramesRequest: MessageTypeDefinition<_lipsync_GenerateFramesRequest, _lipsync_GenerateFramesRequest__Output>
    HealthCheckRequest: MessageTypeDefinition<_lipsync_HealthCheckRequest, _lipsync_HealthCheckRequest__Output>
    HealthCheckResponse: MessageTypeDefinition<_lipsync_HealthCheckResponse, _lipsync_HealthCheckResponse__Output>
    ImageFormat: EnumTypeDefinition
    LipSyncService: SubtypeConstructor<typeof grpc.Client, _lipsync_LipSyncServiceClient> & { service: _lipsync_LipSyncServiceDefinition }
    VideoFrame: MessageTypeDefinition<_lipsync_VideoFrame, _lipsync_VideoFrame__Output>
  }
}

