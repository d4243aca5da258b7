// Original file: proto/llm.proto


export interface TokenUsage {
  'promptTokens'?: (number);
  'completionTokens'?: (number);
}

export interface TokenUsage__Output {
  'promptTokens': (number);
  'completionTokens': (number);
}
