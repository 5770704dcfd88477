/**
 * Reading the tree through its tiles: the {@link NodeReader} that proofs are generated from, and the C2SP
 * tlog-tiles resources (`tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`). Tiles only ever grow at their
 * end, so a tile read once stays right for every tree up to its width: the most recently used ones are cached with
 * every level of their subtree (computed once), and a tile is read again only when a larger tree needs more of it.
 * A proof through cached tiles is a matter of lookups.
 * @module
 */
import {
  encodeEntryBundle,
  HASH_SIZE,
  type NodeId,
  type NodeReader,
  nodeFromTile,
  TILE_WIDTH,
  tileLevels,
  tileSpan,
  WritError,
} from '@writ/verifier';
import type { LogStore, TileKey } from '../store/ledger-log.js';

/** A tile as read (full, or partial at some width) and, once a node was asked of it, its subtree's levels. */
interface CachedTile {
  readonly tile: Buffer;
  levels?: Buffer[];
}

export class TileReader implements NodeReader {
  readonly #log: LogStore;
  readonly #cache = new Map<string, CachedTile>();
  readonly #cacheSize: number;

  constructor(log: LogStore, cacheSize = 1024) {
    this.#log = log;
    this.#cacheSize = cacheSize;
  }

  /** Tiles by key, each at least `width` hashes wide if the store has that many: cached, or read in one query. */
  async #tiles(wanted: ReadonlyMap<string, TileKey & { width: number }>): Promise<Map<string, CachedTile | undefined>> {
    const out = new Map<string, CachedTile | undefined>();
    const missing: TileKey[] = [];
    for (const [key, k] of wanted) {
      const hit = this.#cache.get(key);
      if (hit && hit.tile.length >= k.width * HASH_SIZE) {
        this.#cache.delete(key); // re-insert: most recently used last
        this.#cache.set(key, hit);
        out.set(key, hit);
      } else {
        missing.push(k);
      }
    }
    if (missing.length === 0) return out;
    const read = await this.#log.readTiles(missing);
    missing.forEach((k, i) => {
      const key = `${k.level}/${k.index}`;
      const tile = read[i];
      const cached = tile && { tile };
      out.set(key, cached);
      if (cached) {
        this.#cache.delete(key);
        this.#cache.set(key, cached);
        if (this.#cache.size > this.#cacheSize) this.#cache.delete(this.#cache.keys().next().value!);
      }
    });
    return out;
  }

  async readNodes(ids: readonly NodeId[]): Promise<Buffer[]> {
    const spans = ids.map(tileSpan);
    const wanted = new Map<string, TileKey & { width: number }>();
    for (const s of spans) {
      const key = `${s.level}/${s.index}`;
      const width = Math.max(wanted.get(key)?.width ?? 0, s.offset + s.count);
      wanted.set(key, { level: s.level, index: s.index, width });
    }
    const tiles = await this.#tiles(wanted);
    return spans.map((s) => {
      const t = tiles.get(`${s.level}/${s.index}`);
      if (!t) throw new WritError('ERR_LEDGER_CORRUPT', { detail: `tile ${s.level}/${s.index} is missing` });
      t.levels ??= tileLevels(t.tile);
      return nodeFromTile(t.levels, s);
    });
  }

  /** The first `width` hashes of tile `(level, index)`; `ERR_NOT_FOUND` when the tree has not got that far. */
  async tile(level: number, index: number, width = TILE_WIDTH): Promise<Buffer> {
    const key = `${level}/${index}`;
    const tile = (await this.#tiles(new Map([[key, { level, index, width }]]))).get(key)?.tile;
    if (!tile || tile.length < width * HASH_SIZE) throw new WritError('ERR_NOT_FOUND', { detail: 'no such tile' });
    return tile.subarray(0, width * HASH_SIZE);
  }

  /** The entry bundle of the first `width` entries of level-0 tile `index`; `ERR_NOT_FOUND` when absent. */
  async entryBundle(index: number, width = TILE_WIDTH): Promise<Buffer> {
    const start = index * TILE_WIDTH;
    const entries = await this.#log.readEntries(start, start + width);
    if (entries.length !== width) throw new WritError('ERR_NOT_FOUND', { detail: 'no such entry bundle' });
    return encodeEntryBundle(entries.map((e) => e.data));
  }
}
