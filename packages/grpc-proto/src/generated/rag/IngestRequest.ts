// Original file: proto/rag.proto


export interface IngestRequest {
  'userId'?: (string);
  'content'?: (string);
  'metadata'?: ({[key: string]: string});
}

export interface IngestRequest__Output {
  'userId': (string);
  'content': (string);
  'metadata': ({[key: string]: string});
}
