// Original file: proto/tts.proto

import type { Voice as _tts_Voice, Voice__Output as _tts_Voice__Output } from '../tts/Voice';

export interface ListVoicesResponse {
  'voices'?: (_tts_Voice)[];
}

export interface ListVoicesResponse__Output {
  'voices': (_tts_Voice__Output)[];
}
