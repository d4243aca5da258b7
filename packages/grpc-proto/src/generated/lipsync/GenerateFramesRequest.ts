// Original file: proto/lipsync.proto

import type { ImageFormat as _lipsync_ImageFormat, ImageFormat__Output as _lipsync_ImageFormat__Output } from '../lipsync/ImageFormat';

export interface GenerateFramesRequest {
  'sessionId'?: (string);
  'avatarId'?: (string);
  'audio'?: (Buffer | Uint8Array | string);
  'sampleRateHz'?: (number);
  'fps'?: (number);
  'width'?: (number);
  'height'?: (number);
  'format'?: (_lipsync_ImageFormat);
}

export interface GenerateFramesRequest__Output {
  'sessionId': (string);
  'avatarId': (string);
  'audio': (Buffer);
  'sampleRateHz': (number);
  'fps': (number);
  'width': (number);
  'height': (number);
  'format': (_lipsync_ImageFormat__Output);
}
