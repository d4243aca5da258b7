// Original file: proto/rag.proto


export interface ClearCacheRequest {
  'sessionId'?: (string);
}

export interface ClearCacheRequest__Output {
  'sessionId': (string);
}
