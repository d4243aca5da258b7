// Original file: proto/tts.proto


export interface AudioChunk {
  'audio'?: (Buffer | Uint8Array | string);
  'sequence'?: (number);
  'durationMs'?: (number);
  /**
   * Set on the last chunk.
   */
  'isFinal'?: (boolean);
}

export interface AudioChunk__Output {
  'audio': (Buffer);
  'sequence': (number);
  'durationMs': (number);
  /**
   * Set on the last chunk.
   */
  'isFinal': (boolean);
}
