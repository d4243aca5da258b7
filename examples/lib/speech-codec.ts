/**
 * A toy speech codec so the example services need no model weights yet do real work: each
 * character becomes a 20 ms sine tone (16 kHz, 16-bit PCM) at a frequency of its own, and the
 * ASR service recovers the text with a Goertzel filter bank. TTS and ASR are exact inverses, so
 * the demo's conversations are deterministic end to end.
 */

export const SAMPLE_RATE = 16_000;
const FRAME = 320; // 20 ms: tones 50 Hz apart are orthogonal over one frame
const FIRST = 32; // ' '
const LAST = 126; // '~'
const BASE_HZ = 300;
const STEP_HZ = 50;
const AMPLITUDE = 12_000;

const frequencyOf = (code: number): number => BASE_HZ + (code - FIRST) * STEP_HZ;

/** Text → PCM16LE audio; characters outside printable ASCII become '?'. */
export function encodeSpeech(text: string): Buffer {
  const out = Buffer.alloc(text.length * FRAME * 2);
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code < FIRST || code > LAST) code = 63;
    const w = (2 * Math.PI * frequencyOf(code)) / SAMPLE_RATE;
    for (let n = 0; n < FRAME; n++)
      out.writeInt16LE(Math.round(AMPLITUDE * Math.sin(w * n)), (i * FRAME + n) * 2);
  }
  return out;
}

/** PCM16LE audio → text, one character per complete 20 ms frame. */
export function decodeSpeech(audio: Uint8Array): string {
  const view = Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength);
  const frames = Math.floor(view.length / (FRAME * 2));
  let text = '';
  for (let f = 0; f < frames; f++) {
    let best = FIRST;
    let bestPower = -1;
    for (let code = FIRST; code <= LAST; code++) {
      const power = goertzel(view, f * FRAME, frequencyOf(code));
      if (power > bestPower) {
        bestPower = power;
        best = code;
      }
    }
    text += String.fromCharCode(best);
  }
  return text;
}

function goertzel(pcm: Buffer, start: number, hz: number): number {
  const coeff = 2 * Math.cos((2 * Math.PI * hz) / SAMPLE_RATE);
  let s1 = 0;
  let s2 = 0;
  for (let n = 0; n < FRAME; n++) {
    const s = pcm.readInt16LE((start + n) * 2) + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

/** Splits audio into chunks of whole frames (for streaming rpcs). */
export function* audioChunks(audio: Buffer, framesPerChunk = 8): Generator<Buffer> {
  const size = FRAME * 2 * framesPerChunk;
  for (let offset = 0; offset < audio.length; offset += size) yield audio.subarray(offset, offset + size);
}

/** Duration of PCM16 audio in milliseconds. */
export const durationMs = (audio: Uint8Array): number => (audio.byteLength / 2 / SAMPLE_RATE) * 1000;
