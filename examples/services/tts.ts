import type { tts } from '@clone/grpc-proto';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { audioChunks, durationMs, encodeSpeech, SAMPLE_RATE } from '../lib/speech-codec';
import {
  badRequest,
  type ExampleServiceOptions,
  healthCheck,
  type RunningService,
  startService,
} from './common';

export const VOICES: Required<tts.Voice>[] = [
  { id: 'clone-en', name: 'Clone (English)', languageCode: 'en-US' },
  { id: 'clone-pt', name: 'Clone (Portuguese)', languageCode: 'pt-PT' },
];

/** Running state of the TTS service, readable by tests. */
export interface TTSState {
  /** Audio synthesised per session, kept until `ReleaseAudio` (the saga's compensation). */
  readonly buffered: Map<string, Buffer>;
}

/**
 * TTS: `encodeSpeech` (lib/speech-codec.ts) streamed as chunks of 160 ms, so playback could start
 * before synthesis ends. The audio of a session stays buffered until `ReleaseAudio`.
 */
export async function startTTSService(
  options: ExampleServiceOptions = {},
): Promise<RunningService & { state: TTSState }> {
  const state: TTSState = { buffered: new Map() };
  const running = await startService(
    'tts',
    {
      Synthesize: async (call) => {
        const { text, voiceId, encoding, sampleRateHz, sessionId } = call.request;
        if (text === '') throw badRequest('text is empty', 'tts');
        if (encoding !== 'LINEAR16' && encoding !== 'AUDIO_ENCODING_UNSPECIFIED')
          throw badRequest(`only LINEAR16 is produced, got ${encoding}`, 'tts');
        if (sampleRateHz !== 0 && sampleRateHz !== SAMPLE_RATE)
          throw badRequest(`sample rate must be ${SAMPLE_RATE} Hz, got ${sampleRateHz}`, 'tts');
        if (voiceId !== '' && !VOICES.some((v) => v.id === voiceId))
          throw new ServiceError(ServiceErrorCode.NOT_FOUND, `unknown voice '${voiceId}'`, 'tts', {
            retryable: false,
          });
        const audio = encodeSpeech(text);
        if (sessionId !== '') state.buffered.set(sessionId, audio);
        const chunks = [...audioChunks(audio)];
        for (const [sequence, chunk] of chunks.entries()) {
          if (call.cancelled) return;
          call.write({
            audio: chunk,
            sequence,
            durationMs: Math.round(durationMs(chunk)),
            isFinal: sequence === chunks.length - 1,
          });
        }
        call.end();
      },
      ListVoices: async (call) => ({
        voices: VOICES.filter(
          (v) => call.request.languageCode === '' || v.languageCode.startsWith(call.request.languageCode),
        ),
      }),
      ReleaseAudio: async (call) => ({ released: state.buffered.delete(call.request.sessionId) }),
      HealthCheck: healthCheck('tts'),
    },
    { tts: ['tts:read'], '/tts.TTSService/ReleaseAudio': ['tts:write'] },
    options,
  );
  return Object.assign(running, { state });
}
