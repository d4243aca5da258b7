// Original file: proto/lipsync.proto

import type { ImageFormat as _lipsync_ImageFormat, ImageFormat__Output as _lipsync_ImageFormat__Output } from '../lipsync/ImageFormat';

export interface VideoFrame {
  'sequence'?: (number);
  /**
   * Position of the frame in the audio timeline.
   */
  'timestampMs'?: (number);
  'image'?: (Buffer | Uint8Array | string);
  'format'?: (_lipsync_ImageFormat);
  'isFinal'?: (boolean);
}

export interface VideoFrame__Output {
  'sequence': (number);
  /**
   * Position of the frame in the audio timeline.
   */
  'timestampMs': (number);
  'image': (Buffer);
  'format': (_lipsync_ImageFormat__Output);
  'isFinal': (boolean);
}
