import { decodeSpeech, SAMPLE_RATE } from '../lib/speech-codec';
import { visemeFrames } from '../lib/visemes';
import {
  badRequest,
  type ExampleServiceOptions,
  healthCheck,
  type RunningService,
  startService,
} from './common';

/**
 * Lip-sync: recovers the spoken text from the audio (the speech codec is invertible), maps it
 * to mouth shapes (lib/visemes.ts) and streams one frame per 1/fps s. A frame's `image` is a
 * tiny JSON "render" naming its viseme: the demo has no renderer, but the timing is real.
 */
export function startLipSyncService(options: ExampleServiceOptions = {}): Promise<RunningService> {
  return startService(
    'lipsync',
    {
      GenerateFrames: async (call) => {
        const { audio, sampleRateHz, fps, width, height, format, avatarId } = call.request;
        if (audio.length === 0) throw badRequest('audio is empty', 'lipsync');
        if (sampleRateHz !== 0 && sampleRateHz !== SAMPLE_RATE)
          throw badRequest(`sample rate must be ${SAMPLE_RATE} Hz, got ${sampleRateHz}`, 'lipsync');
        const frames = visemeFrames(decodeSpeech(audio), fps || 25);
        for (const frame of frames) {
          if (call.cancelled) return;
          const image = Buffer.from(
            JSON.stringify({ avatar: avatarId || 'default', viseme: frame.viseme, width, height }),
          );
          call.write({
            sequence: frame.index,
            timestampMs: frame.timestampMs,
            image,
            format: format === 'IMAGE_FORMAT_UNSPECIFIED' ? 'RAW_RGB' : format,
            isFinal: frame.index === frames.length - 1,
          });
        }
        call.end();
      },
      HealthCheck: healthCheck('lipsync'),
    },
    { lipsync: ['lipsync:read'] },
    options,
  );
}
