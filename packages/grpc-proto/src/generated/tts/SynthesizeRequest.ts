// Original file: proto/tts.proto

import type { AudioEncoding as _tts_AudioEncoding, AudioEncoding__Output as _tts_AudioEncoding__Output } from '../tts/AudioEncoding';

export interface SynthesizeRequest {
  'sessionId'?: (string);
  'text'?: (string);
  'voiceId'?: (string);
  'encoding'?: (_tts_AudioEncoding);
  'sampleRateHz'?: (number);
  /**
   * 1.0 is normal speed.
   */
  'speakingRate'?: (number | string);
}

export interface SynthesizeRequest__Output {
  'sessionId': (string);
  'text': (string);
  'voiceId': (string);
  'encoding': (_tts_AudioEncoding__Output);
  'sampleRateHz': (number);
  /**
   * 1.0 is normal speed.
   */
  'speakingRate': (number);
}
