// Original file: proto/rag.proto


export interface RetrieveRequest {
  'userId'?: (string);
  'query'?: (string);
  'topK'?: (number);
  'minScore'?: (number | string);
  /**
   * Only documents whose metadata has every one of these key/value pairs.
   */
  'filter'?: ({[key: string]: string});
  /**
   * Caches the result for the session, so a later ClearCache can drop it.
   */
  'sessionId'?: (string);
}

export interface RetrieveRequest__Output {
  'userId': (string);
  'query': (string);
  'topK': (number);
  'minScore': (number);
  /**
   * Only documents whose metadata has every one of these key/value pairs.
   */
  'filter': ({[key: string]: string});
  /**
   * Caches the result for the session, so a later ClearCache can drop it.
   */
  'sessionId': (string);
}
