// Original file: proto/tts.proto


export interface Voice {
  'id'?: (string);
  'name'?: (string);
  'languageCode'?: (string);
}

export interface Voice__Output {
  'id': (string);
  'name': (string);
  'languageCode': (string);
}
