// Original file: proto/tts.proto

export const AudioEncoding = {
  AUDIO_ENCODING_UNSPECIFIED: 'AUDIO_ENCODING_UNSPECIFIED',
  LINEAR16: 'LINEAR16',
  OPUS: 'OPUS',
  MP3: 'MP3',
} as const;

export type AudioEncoding =
  | 'AUDIO_ENCODING_UNSPECIFIED'
  | 0
  | 'LINEAR16'
  | 1
  | 'OPUS'
  | 2
  | 'MP3'
  | 3

export type AudioEncoding__Output = typeof AudioEncoding[keyof typeof AudioEncoding]
