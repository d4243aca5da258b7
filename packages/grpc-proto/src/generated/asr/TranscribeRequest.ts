// Original file: proto/asr.proto

import type { AudioEncoding as _asr_AudioEncoding, AudioEncoding__Output as _asr_AudioEncoding__Output } from '../asr/AudioEncoding';

export interface TranscribeRequest {
  'sessionId'?: (string);
  'audio'?: (Buffer | Uint8Array | string);
  'encoding'?: (_asr_AudioEncoding);
  'sampleRateHz'?: (number);
  /**
   * BCP-47, e.g. "en-US"; empty lets the service detect it.
   */
  'languageCode'?: (string);
}

export interface TranscribeRequest__Output {
  'sessionId': (string);
  'audio': (Buffer);
  'encoding': (_asr_AudioEncoding__Output);
  'sampleRateHz': (number);
  /**
   * BCP-47, e.g. "en-US"; empty lets the service detect it.
   */
  'languageCode': (string);
}
