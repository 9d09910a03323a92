/** The document: an image layer and a mask layer, both tiled, edited through the history. */
import { History, type HistoryLimits, DEFAULT_HISTORY_LIMITS } from './history.ts';
import { TiledLayer, type TileKey } from './tiled-layer.ts';

/** The layers a document holds. `mask` marks pixels to repaint (mask brush); its alpha is the mask. */
export const LAYER_IDS = ['image', 'mask'] as const;
export type LayerId = (typeof LAYER_IDS)[number];

/** History/persistence key of a tile: "layer/tx,ty". */
export function docTileKey(layer: LayerId, key: TileKey): string {
  return `${layer}/${key}`;
}

/** Split a "layer/tx,ty" key. */
export function parseDocTileKey(key: string): { layer: LayerId; tile: TileKey } {
  const slash = key.indexOf('/');
  const layer = key.slice(0, slash);
  if (!(LAYER_IDS as readonly string[]).includes(layer)) throw new Error(`tile key: unknown layer in "${key}", expected one of ${LAYER_IDS.join(', ')}`);
  return { layer: layer as LayerId, tile: key.slice(slash + 1) as TileKey };
}

/** Document layers plus their undo history; reports changed tiles to listeners. */
export class EditorDocument {
  readonly history: History;
  readonly image: TiledLayer;
  readonly mask: TiledLayer;
  private readonly tileListeners = new Set<(key: string) => void>();
  /** Bumped on every pixel change (cheap "has it changed" checks). */
  version = 0;

  constructor(limits: HistoryLimits = DEFAULT_HISTORY_LIMITS) {
    const observer = {
      beforeChange: (layer: string, key: TileKey) => {
        const k = docTileKey(layer as LayerId, key);
        if (this.history.isRecorded(k)) return;
        const tile = this.layer(layer as LayerId).peek(key);
        this.history.record(k, tile ? new Uint8ClampedArray(tile) : null);
      },
      changed: (layer: string, key: TileKey) => {
        this.version++;
        const k = docTileKey(layer as LayerId, key);
        for (const fn of this.tileListeners) fn(k);
      },
    };
    this.image = new TiledLayer('image', observer);
    this.mask = new TiledLayer('mask', observer);
    this.history = new History({ swap: (key, data) => this.swapTile(key, data) }, limits);
  }

  /** The layer with this id. */
  layer(id: LayerId): TiledLayer {
    switch (id) {
      case 'image': return this.image;
      case 'mask': return this.mask;
    }
  }

  /** Replace a tile by its document key (history and loading); returns the previous content. */
  swapTile(key: string, data: Uint8ClampedArray | null): Uint8ClampedArray | null {
    const { layer, tile } = parseDocTileKey(key);
    return this.layer(layer).swapTile(tile, data);
  }

  /** A tile by its document key, or undefined when empty. */
  getTile(key: string): Uint8ClampedArray | undefined {
    const { layer, tile } = parseDocTileKey(key);
    return this.layer(layer).peek(tile);
  }

  /** All tiles, keyed "layer/tx,ty" (autosave). */
  *allTiles(): Generator<[string, Uint8ClampedArray]> {
    for (const id of LAYER_IDS) for (const [k, t] of this.layer(id).tiles) yield [docTileKey(id, k), t];
  }

  /** Called with the document key of every tile that changes. */
  onTileChange(fn: (key: string) => void): () => void {
    this.tileListeners.add(fn);
    return () => this.tileListeners.delete(fn);
  }
}
