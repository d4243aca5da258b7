// Original file: proto/rag.proto


export interface UpsertResponse {
  'upserted'?: (number);
}

export interface UpsertResponse__Output {
  'upserted': (number);
}
