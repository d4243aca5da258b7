// Original file: proto/lipsync.proto

export const ImageFormat = {
  IMAGE_FORMAT_UNSPECIFIED: 'IMAGE_FORMAT_UNSPECIFIED',
  JPEG: 'JPEG',
  PNG: 'PNG',
  RAW_RGB: 'RAW_RGB',
} as const;

export type ImageFormat =
  | 'IMAGE_FORMAT_UNSPECIFIED'
  | 0
  | 'JPEG'
  | 1
  | 'PNG'
  | 2
  | 'RAW_RGB'
  | 3

export type ImageFormat__Output = typeof ImageFormat[keyof typeof ImageFormat]
