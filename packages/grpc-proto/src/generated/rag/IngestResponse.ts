// Original file: proto/rag.proto


export interface IngestResponse {
  'documentId'?: (string);
}

export interface IngestResponse__Output {
  'documentId': (string);
}
