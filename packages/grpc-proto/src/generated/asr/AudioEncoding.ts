// Original file: proto/asr.proto

export const AudioEncoding = {
  AUDIO_ENCODING_UNSPECIFIED: 'AUDIO_ENCODING_UNSPECIFIED',
  LINEAR16: 'LINEAR16',
  OPUS: 'OPUS',
  FLAC: 'FLAC',
  MULAW: 'MULAW',
} as const;

export type AudioEncoding =
  | 'AUDIO_ENCODING_UNSPECIFIED'
  | 0
  | 'LINEAR16'
  | 1
  | 'OPUS'
  | 2
  | 'FLAC'
  | 3
  | 'MULAW'
  | 4

export type AudioEncoding__Output = typeof AudioEncoding[keyof typeof AudioEncoding]
