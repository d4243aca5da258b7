// Original file: proto/tts.proto


export interface ListVoicesRequest {
  /**
   * Empty lists every voice.
   */
  'languageCode'?: (string);
}

export interface ListVoicesRequest__Output {
  /**
   * Empty lists every voice.
   */
  'languageCode': (string);
}
