// Original file: proto/rag.proto


export interface DeleteRequest {
  'userId'?: (string);
  'ids'?: (string)[];
}

export interface DeleteRequest__Output {
  'userId': (string);
  'ids': (string)[];
}
