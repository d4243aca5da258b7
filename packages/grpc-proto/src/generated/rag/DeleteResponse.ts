// Original file: proto/rag.proto


export interface DeleteResponse {
  'deleted'?: (number);
}

export interface DeleteResponse__Output {
  'deleted': (number);
}
