/** The generation frame: aspect presets and sizes (multiples of 64, as the decoder needs). */
import type { Rect } from './geometry.ts';

/** Aspect presets of the original demo, as width:height. */
export const ASPECT_PRESETS = {
  '9:16': [9, 16],
  '2:3': [2, 3],
  '1:1': [1, 1],
  '16:9': [16, 9],
  '3:2': [3, 2],
} as const satisfies Record<string, readonly [number, number]>;
export type AspectPreset = keyof typeof ASPECT_PRESETS;
export const ASPECT_NAMES = Object.keys(ASPECT_PRESETS) as AspectPreset[];

/** Frame long-side choices: normal (512–1024) and small test sizes for tiny models (64–256). */
export const FRAME_SIZES = {
  normal: [512, 576, 640, 704, 768, 832, 896, 960, 1024],
  small: [64, 128, 192, 256],
} as const;

/** How far a short:long side pair is from a preset's ratio: |log| of their quotient, the same for a frame and its transpose. */
export function ratioDistance(aspect: AspectPreset, short: number, long: number): number {
  const [aw, ah] = ASPECT_PRESETS[aspect];
  return Math.abs(Math.log(short / long) - Math.log(Math.min(aw, ah) / Math.max(aw, ah)));
}

/** Least total ratioDistance with distinct short sides for `presets` (one orientation), first best in preset order. */
function distinctShorts(presets: readonly AspectPreset[], candidates: readonly number[], long: number): number[] {
  let best: { cost: number; shorts: number[] } | null = null;
  const pick = (i: number, shorts: number[], cost: number): void => {
    if (best !== null && cost >= best.cost) return;
    if (i === presets.length) { best = { cost, shorts: [...shorts] }; return; }
    for (const c of candidates) {
      if (shorts.includes(c)) continue;
      shorts.push(c);
      pick(i + 1, shorts, cost + ratioDistance(presets[i]!, c, long));
      shorts.pop();
    }
  };
  pick(0, [], 0);
  return best!.shorts;
}

const shortSides = new Map<number, Readonly<Record<AspectPreset, number>>>();

/** The short side of every preset at one long side: multiples of 64 below it, distinct within each
 *  orientation (so no two presets give one frame: 9:16 and 2:3 both round to 320 at 512) and, among
 *  such choices, closest to the ratios. Where there are fewer sizes than presets (long sides 64 and
 *  128), each takes its nearest and some coincide. */
function presetShortSides(long: number): Readonly<Record<AspectPreset, number>> {
  const cached = shortSides.get(long);
  if (cached) return cached;
  const out = {} as Record<AspectPreset, number>;
  const candidates = Array.from({ length: long / 64 - 1 }, (_, i) => (i + 1) * 64);
  const groups = [ASPECT_NAMES.filter((a) => ASPECT_PRESETS[a][0] < ASPECT_PRESETS[a][1]), ASPECT_NAMES.filter((a) => ASPECT_PRESETS[a][0] > ASPECT_PRESETS[a][1])];
  for (const a of ASPECT_NAMES) if (ASPECT_PRESETS[a][0] === ASPECT_PRESETS[a][1]) out[a] = long;
  for (const group of groups) {
    if (candidates.length >= group.length) {
      distinctShorts(group, candidates, long).forEach((short, i) => { out[group[i]!] = short; });
    } else {
      for (const a of group) {
        const [aw, ah] = ASPECT_PRESETS[a];
        out[a] = Math.max(64, Math.round((long * Math.min(aw, ah)) / Math.max(aw, ah) / 64) * 64);
      }
    }
  }
  shortSides.set(long, out);
  return out;
}

/** Both sides of a frame: the long side is `longSide`, the short side a multiple of 64 chosen by presetShortSides. */
export function frameDimensions(aspect: AspectPreset, longSide: number): { width: number; height: number } {
  if (!Number.isInteger(longSide) || longSide % 64 !== 0 || longSide < 64) {
    throw new RangeError(`frame: expected a long side that is a multiple of 64, got ${longSide}`);
  }
  const [aw, ah] = ASPECT_PRESETS[aspect];
  const short = presetShortSides(longSide)[aspect];
  return aw >= ah ? { width: longSide, height: short } : { width: short, height: longSide };
}

/** The frame rectangle resized to a preset, keeping its centre (snapped to whole pixels). */
export function resizeFrame(frame: Rect, aspect: AspectPreset, longSide: number): Rect {
  const { width, height } = frameDimensions(aspect, longSide);
  const cx = frame.x + frame.width / 2;
  const cy = frame.y + frame.height / 2;
  return { x: Math.round(cx - width / 2), y: Math.round(cy - height / 2), width, height };
}
