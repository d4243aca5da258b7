// Original file: proto/tts.proto


export interface ReleaseAudioRequest {
  'sessionId'?: (string);
}

export interface ReleaseAudioRequest__Output {
  'sessionId': (string);
}
