import { describe, expect, it } from 'vitest';
import { TiledLayer, TILE_SIZE, parseTileKey, tileKey } from './tiled-layer.ts';

const noop = { beforeChange: () => {}, changed: () => {} };

describe('TiledLayer', () => {
  it('reads back what was written across tile borders, negative coordinates included', () => {
    const layer = new TiledLayer('image', noop);
    const w = 300;
    const h = 20;
    const data = new Uint8ClampedArray(w * h * 4);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 256;
    layer.write(-150, 250, { width: w, height: h, data });
    expect(layer.tiles.size).toBe(4);
    expect(layer.read({ x: -150, y: 250, width: w, height: h }).data).toEqual(data);
    expect(layer.contentBounds()).toEqual({ x: -150, y: 250, width: w, height: h });
    expect(layer.read({ x: -151, y: 249, width: 1, height: 1 }).data).toEqual(new Uint8ClampedArray(4));
  });

  it('clear makes pixels transparent and hasContent sees it', () => {
    const layer = new TiledLayer('image', noop);
    layer.write(0, 0, { width: 2, height: 2, data: new Uint8ClampedArray(16).fill(255) });
    expect(layer.hasContent({ x: 1, y: 1, width: 5, height: 5 })).toBe(true);
    layer.clear({ x: 0, y: 0, width: 2, height: 2 });
    expect(layer.hasContent({ x: 0, y: 0, width: 5, height: 5 })).toBe(false);
    expect(layer.contentBounds()).toBeNull();
  });

  it('composite is source-over with straight alpha', () => {
    const layer = new TiledLayer('image', noop);
    layer.write(0, 0, { width: 1, height: 1, data: new Uint8ClampedArray([0, 0, 200, 255]) });
    layer.composite(0, 0, { width: 1, height: 1, data: new Uint8ClampedArray([200, 0, 0, 128]) });
    const px = [...layer.read({ x: 0, y: 0, width: 1, height: 1 }).data];
    expect(px[0]).toBe(100);
    expect(px[2]).toBe(100);
    expect(px[3]).toBe(255);
  });

  it('notifies the observer before the first change of each tile', () => {
    const seen: string[] = [];
    const layer = new TiledLayer('image', { beforeChange: (_, k) => seen.push(k), changed: () => {} });
    layer.write(TILE_SIZE - 1, 0, { width: 2, height: 1, data: new Uint8ClampedArray(8) });
    expect(seen).toEqual([tileKey(0, 0), tileKey(1, 0)]);
    expect(parseTileKey('3,-2')).toEqual({ tx: 3, ty: -2 });
    expect(() => parseTileKey('x')).toThrow(/tx,ty/);
  });
});
