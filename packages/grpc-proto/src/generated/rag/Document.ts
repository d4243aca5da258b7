// Original file: proto/rag.proto


export interface Document {
  'id'?: (string);
  'content'?: (string);
  'metadata'?: ({[key: string]: string});
}

export interface Document__Output {
  'id': (string);
  'content': (string);
  'metadata': ({[key: string]: string});
}
