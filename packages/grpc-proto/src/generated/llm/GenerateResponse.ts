// Original file: proto/llm.proto

import type { FinishReason as _llm_FinishReason, FinishReason__Output as _llm_FinishReason__Output } from '../llm/FinishReason';
import type { TokenUsage as _llm_TokenUsage, TokenUsage__Output as _llm_TokenUsage__Output } from '../llm/TokenUsage';

export interface GenerateResponse {
  'text'?: (string);
  'finishReason'?: (_llm_FinishReason);
  'usage'?: (_llm_TokenUsage | null);
}

export interface GenerateResponse__Output {
  'text': (string);
  'finishReason': (_llm_FinishReason__Output);
  'usage': (_llm_TokenUsage__Output | null);
}
