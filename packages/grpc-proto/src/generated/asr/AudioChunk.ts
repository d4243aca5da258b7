// Original file: proto/asr.proto

import type { AudioEncoding as _asr_AudioEncoding, AudioEncoding__Output as _asr_AudioEncoding__Output } from '../asr/AudioEncoding';

export interface AudioChunk {
  'sessionId'?: (string);
  'audio'?: (Buffer | Uint8Array | string);
  /**
   * Position of the chunk in the stream, from 0; lets the server detect gaps.
   */
  'sequence'?: (number);
  'encoding'?: (_asr_AudioEncoding);
  'sampleRateHz'?: (number);
  /**
   * The speaker stopped: the server finalises the current utterance.
   */
  'endOfUtterance'?: (boolean);
}

export interface AudioChunk__Output {
  'sessionId': (string);
  'audio': (Buffer);
  /**
   * Position of the chunk in the stream, from 0; lets the server detect gaps.
   */
  'sequence': (number);
  'encoding': (_asr_AudioEncoding__Output);
  'sampleRateHz': (number);
  /**
   * The speaker stopped: the server finalises the current utterance.
   */
  'endOfUtterance': (boolean);
}
