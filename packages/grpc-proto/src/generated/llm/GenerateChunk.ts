// Original file: proto/llm.proto

import type { FinishReason as _llm_FinishReason, FinishReason__Output as _llm_FinishReason__Output } from '../llm/FinishReason';
import type { TokenUsage as _llm_TokenUsage, TokenUsage__Output as _llm_TokenUsage__Output } from '../llm/TokenUsage';

export interface GenerateChunk {
  /**
   * The text added by this chunk.
   */
  'delta'?: (string);
  'index'?: (number);
  /**
   * Set on the last chunk only.
   */
  'finishReason'?: (_llm_FinishReason);
  'usage'?: (_llm_TokenUsage | null);
}

export interface GenerateChunk__Output {
  /**
   * The text added by this chunk.
   */
  'delta': (string);
  'index': (number);
  /**
   * Set on the last chunk only.
   */
  'finishReason': (_llm_FinishReason__Output);
  'usage': (_llm_TokenUsage__Output | null);
}
