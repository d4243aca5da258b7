// Original file: proto/asr.proto

import type { WordInfo as _asr_WordInfo, WordInfo__Output as _asr_WordInfo__Output } from '../asr/WordInfo';

export interface TranscribeResponse {
  'transcript'?: (string);
  'confidence'?: (number | string);
  'languageCode'?: (string);
  'words'?: (_asr_WordInfo)[];
  'audioDurationMs'?: (number);
}

export interface TranscribeResponse__Output {
  'transcript': (string);
  'confidence': (number);
  'languageCode': (string);
  'words': (_asr_WordInfo__Output)[];
  'audioDurationMs': (number);
}
