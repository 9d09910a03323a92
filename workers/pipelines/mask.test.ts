import { describe, expect, it } from 'vitest';
import { prepareKeepMask } from './mask.ts';

function grid(rows: string[]): Float32Array {
  return Float32Array.from(rows.join('').split('').map((c) => (c === '#' ? 1 : 0)));
}
function show(m: Float32Array, w: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < m.length; i += w) out.push(Array.from(m.slice(i, i + w), (v) => (v === 1 ? '.' : 'x')).join(''));
  return out;
}

describe('prepareKeepMask', () => {
  it('inverts and grows one repaint cell into the six reference neighbours (not the other two diagonals)', () => {
    const mask = grid(['-----', '-----', '--#--', '-----', '-----']);
    expect(show(prepareKeepMask(mask, 5, 5, 5, 5), 5)).toEqual([
      '.....',
      '.xx..',
      '.xxx.',
      '..xx.',
      '.....',
    ]);
  });

  it('binarises at 0.5 and uses floor nearest-neighbour sampling when downscaling', () => {
    const w = 16, h = 8;
    const mask = new Float32Array(w * h);
    // repaint only pixel column 8..15 of row 0..3 with value 0.5 (>= 0.5 counts as repaint), 0.49 elsewhere
    mask.fill(0.49);
    for (let y = 0; y < 4; y++) for (let x = 8; x < 16; x++) mask[y * w + x] = 0.5;
    const keep = prepareKeepMask(mask, w, h, 4, 2);
    // latent (0,2),(0,3) repaint; growth: left (0,1), below (1,2),(1,3), below-right beyond edge
    expect(show(keep, 4)).toEqual(['.xxx', '..xx']);
  });

  it('keeps everything when nothing is masked and rejects a mask of the wrong size', () => {
    expect(Array.from(prepareKeepMask(new Float32Array(64), 8, 8, 2, 2))).toEqual([1, 1, 1, 1]);
    expect(() => prepareKeepMask(new Float32Array(10), 8, 8, 2, 2)).toThrow(/expected 8×8/);
  });
});
