// Original file: proto/llm.proto

export const FinishReason = {
  FINISH_REASON_UNSPECIFIED: 'FINISH_REASON_UNSPECIFIED',
  STOP: 'STOP',
  LENGTH: 'LENGTH',
  CANCELLED: 'CANCELLED',
} as const;

export type FinishReason =
  | 'FINISH_REASON_UNSPECIFIED'
  | 0
  | 'STOP'
  | 1
  | 'LENGTH'
  | 2
  | 'CANCELLED'
  | 3

export type FinishReason__Output = typeof FinishReason[keyof typeof FinishReason]
