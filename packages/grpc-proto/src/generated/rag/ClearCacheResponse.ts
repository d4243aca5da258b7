// Original file: proto/rag.proto


export interface ClearCacheResponse {
  'cleared'?: (boolean);
}

export interface ClearCacheResponse__Output {
  'cleared': (boolean);
}
