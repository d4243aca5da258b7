// Original file: proto/asr.proto


export interface WordInfo {
  'word'?: (string);
  'startMs'?: (number);
  'endMs'?: (number);
  'confidence'?: (number | string);
}

export interface WordInfo__Output {
  'word': (string);
  'startMs': (number);
  'endMs': (number);
  'confidence': (number);
}
