// Original file: proto/asr.proto


export interface TranscriptionResult {
  'transcript'?: (string);
  /**
   * False for interim hypotheses that may still change.
   */
  'isFinal'?: (boolean);
  'confidence'?: (number | string);
  /**
   * Sequence number of the last chunk this result covers.
   */
  'sequence'?: (number);
}

export interface TranscriptionResult__Output {
  'transcript': (string);
  /**
   * False for interim hypotheses that may still change.
   */
  'isFinal': (boolean);
  'confidence': (number);
  /**
   * Sequence number of the last chunk this result covers.
   */
  'sequence': (number);
}
