// Original file: proto/tts.proto


export interface ReleaseAudioResponse {
  'released'?: (boolean);
}

export interface ReleaseAudioResponse__Output {
  'released': (boolean);
}
