// Original file: proto/llm.proto


export interface ChatMessage {
  /**
   * "system", "user" or "assistant".
   */
  'role'?: (string);
  'content'?: (string);
}

export interface ChatMessage__Output {
  /**
   * "system", "user" or "assistant".
   */
  'role': (string);
  'content': (string);
}
