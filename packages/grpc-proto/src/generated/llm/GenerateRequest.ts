// Original file: proto/llm.proto

import type { ChatMessage as _llm_ChatMessage, ChatMessage__Output as _llm_ChatMessage__Output } from '../llm/ChatMessage';

export interface GenerateRequest {
  'sessionId'?: (string);
  'prompt'?: (string);
  'history'?: (_llm_ChatMessage)[];
  /**
   * Retrieved context (from the RAG service) the answer should draw on.
   */
  'context'?: (string);
  'maxTokens'?: (number);
  'temperature'?: (number | string);
  'stop'?: (string)[];
}

export interface GenerateRequest__Output {
  'sessionId': (string);
  'prompt': (string);
  'history': (_llm_ChatMessage__Output)[];
  /**
   * Retrieved context (from the RAG service) the answer should draw on.
   */
  'context': (string);
  'maxTokens': (number);
  'temperature': (number);
  'stop': (string)[];
}
