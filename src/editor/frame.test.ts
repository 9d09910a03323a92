import { describe, expect, it } from 'vitest';
import { ASPECT_NAMES, ASPECT_PRESETS, FRAME_SIZES, frameDimensions, ratioDistance } from './frame.ts';

const key = (d: { width: number; height: number }): string => `${d.width}×${d.height}`;
const LONG_SIDES = Array.from({ length: 2048 / 64 }, (_, i) => (i + 1) * 64);

describe('aspect presets', () => {
  it('at the default 512 px, 9:16 and 2:3 are two frames (256×512 and 320×512), as are 16:9 and 3:2', () => {
    expect(frameDimensions('9:16', 512)).toEqual({ width: 256, height: 512 });
    expect(frameDimensions('2:3', 512)).toEqual({ width: 320, height: 512 });
    expect(frameDimensions('16:9', 512)).toEqual({ width: 512, height: 256 });
    expect(frameDimensions('3:2', 512)).toEqual({ width: 512, height: 320 });
  });

  it('from 192 px up every preset is its own frame: multiples of 64, the long side as asked', () => {
    for (const long of LONG_SIDES.filter((l) => l >= 192)) {
      const frames = ASPECT_NAMES.map((a) => frameDimensions(a, long));
      expect(new Set(frames.map(key)).size, `long side ${long}: ${frames.map(key).join(', ')}`).toBe(ASPECT_NAMES.length);
      for (const d of frames) {
        expect(Math.max(d.width, d.height)).toBe(long);
        expect(d.width % 64 === 0 && d.height % 64 === 0).toBe(true);
      }
    }
  });

  it('each preset is the closest to its ratio of the frames the other presets leave free', () => {
    for (const long of LONG_SIDES.filter((l) => l >= 192)) {
      for (const a of ASPECT_NAMES) {
        const [aw, ah] = ASPECT_PRESETS[a];
        if (aw === ah) continue;
        const mine = frameDimensions(a, long);
        const taken = new Set(ASPECT_NAMES.filter((b) => b !== a).map((b) => key(frameDimensions(b, long))));
        const own = ratioDistance(a, Math.min(mine.width, mine.height), long);
        for (let short = 64; short <= long; short += 64) {
          const other = aw > ah ? { width: long, height: short } : { width: short, height: long };
          if (taken.has(key(other)) || key(other) === key(mine)) continue;
          expect(ratioDistance(a, short, long), `${a} at ${long}: ${key(other)} beats ${key(mine)}`).toBeGreaterThanOrEqual(own);
        }
      }
    }
  });

  it('below 192 px there are fewer sizes than presets: each takes its nearest', () => {
    expect(FRAME_SIZES.small.slice(0, 2)).toEqual([64, 128]);
    expect(ASPECT_NAMES.map((a) => key(frameDimensions(a, 128)))).toEqual(['64×128', '64×128', '128×128', '128×64', '128×64']);
    expect(new Set(ASPECT_NAMES.map((a) => key(frameDimensions(a, 64))))).toEqual(new Set(['64×64']));
  });
});
