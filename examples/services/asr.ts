import type { asr } from '@clone/grpc-proto';
import { decodeSpeech, durationMs, SAMPLE_RATE } from '../lib/speech-codec';
import {
  badRequest,
  type ExampleServiceOptions,
  healthCheck,
  type RunningService,
  startService,
} from './common';

const MS_PER_CHAR = 20;

function checkFormat(encoding: string, sampleRateHz: number): void {
  if (encoding !== 'LINEAR16' && encoding !== 'AUDIO_ENCODING_UNSPECIFIED')
    throw badRequest(`only LINEAR16 audio is understood, got ${encoding}`, 'asr');
  if (sampleRateHz !== 0 && sampleRateHz !== SAMPLE_RATE)
    throw badRequest(`sample rate must be ${SAMPLE_RATE} Hz, got ${sampleRateHz}`, 'asr');
}

/** Words with their timing: each character is one 20 ms frame of the speech codec. */
function words(transcript: string): asr.WordInfo[] {
  const out: asr.WordInfo[] = [];
  for (const match of transcript.matchAll(/\S+/g)) {
    const start = match.index * MS_PER_CHAR;
    out.push({ word: match[0], startMs: start, endMs: start + match[0].length * MS_PER_CHAR, confidence: 1 });
  }
  return out;
}

/**
 * ASR: recovers the text `encodeSpeech` put into PCM16 audio (Goertzel filter bank, see
 * lib/speech-codec.ts). `Transcribe` takes a whole utterance; `StreamTranscribe` takes chunks and
 * answers each with an interim hypothesis, and with a final result at `end_of_utterance` (or
 * when the client ends the stream).
 */
export function startASRService(options: ExampleServiceOptions = {}): Promise<RunningService> {
  return startService(
    'asr',
    {
      Transcribe: async (call) => {
        const { audio, encoding, sampleRateHz } = call.request;
        checkFormat(encoding, sampleRateHz);
        if (audio.length === 0) throw badRequest('audio is empty', 'asr');
        const transcript = decodeSpeech(audio);
        return {
          transcript,
          confidence: 1,
          languageCode: call.request.languageCode || 'en-US',
          words: words(transcript),
          audioDurationMs: Math.round(durationMs(audio)),
        };
      },
      StreamTranscribe: (call) => {
        let pending: Buffer[] = [];
        let expected = 0;
        let failed = false;
        const finalise = (sequence: number): void => {
          if (pending.length === 0) return;
          call.write({
            transcript: decodeSpeech(Buffer.concat(pending)),
            isFinal: true,
            confidence: 1,
            sequence,
          });
          pending = [];
        };
        call.on('data', (chunk: asr.AudioChunk__Output) => {
          if (failed) return;
          try {
            checkFormat(chunk.encoding, chunk.sampleRateHz);
            if (chunk.sequence !== expected)
              throw badRequest(`chunk ${expected} is missing (got ${chunk.sequence})`, 'asr');
          } catch (error) {
            failed = true;
            call.emit('error', error);
            return;
          }
          expected++;
          pending.push(chunk.audio);
          if (chunk.endOfUtterance) {
            finalise(chunk.sequence);
            return;
          }
          const interim = decodeSpeech(Buffer.concat(pending));
          call.write({ transcript: interim, isFinal: false, confidence: 0.5, sequence: chunk.sequence });
        });
        call.on('end', () => {
          if (failed) return;
          finalise(Math.max(0, expected - 1));
          call.end();
        });
      },
      HealthCheck: healthCheck('asr'),
    },
    { asr: ['asr:read'] },
    options,
  );
}
