/**
 * The lip-sync example: maps text to mouth shapes (visemes), one video frame per 40 ms
 * (25 fps), the way a renderer would drive an avatar. Deterministic, no model.
 */
export type Viseme = 'rest' | 'AA' | 'EE' | 'OO' | 'FV' | 'MBP' | 'L' | 'TH' | 'CDG';

const MAP: Record<string, Viseme> = {
  a: 'AA',
  e: 'EE',
  i: 'EE',
  o: 'OO',
  u: 'OO',
  y: 'EE',
  f: 'FV',
  v: 'FV',
  m: 'MBP',
  b: 'MBP',
  p: 'MBP',
  l: 'L',
  t: 'TH',
  d: 'CDG',
  c: 'CDG',
  g: 'CDG',
  k: 'CDG',
  s: 'CDG',
  z: 'CDG',
  n: 'CDG',
  r: 'L',
  h: 'rest',
  w: 'OO',
  j: 'CDG',
  q: 'CDG',
  x: 'CDG',
};

export interface VisemeFrame {
  index: number;
  timestampMs: number;
  viseme: Viseme;
}

/** One frame per character spoken (20 ms each in the speech codec), sampled at 25 fps. */
export function visemeFrames(text: string, fps = 25): VisemeFrame[] {
  const speechMs = text.length * 20;
  const frames: VisemeFrame[] = [];
  const step = 1000 / fps;
  for (let i = 0, t = 0; t < speechMs; i++, t += step) {
    const ch = text[Math.min(text.length - 1, Math.floor(t / 20))]!.toLowerCase();
    frames.push({ index: i, timestampMs: Math.round(t), viseme: MAP[ch] ?? 'rest' });
  }
  return frames;
}
