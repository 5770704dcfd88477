/**
 * Reading the tree through its tiles: the {@link NodeReader} that proofs are generated from, and the C2SP
 * tlog-tiles resources (`tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`). Full tiles never change, so the
 * most recently used ones are cached with every level of their subtree (255 more hashes, computed once), which
 * makes a proof through cached tiles a matter of lookups; partial tiles are always read afresh.
 * @module
 */
import {
  encodeEntryBundle,
  HASH_SIZE,
  type NodeId,
  type NodeReader,
  nodeHash,
  TILE_WIDTH,
  tileSpan,
  tileSubtreeRoot,
  WritError,
} from '@writ/verifier';
import type { LogStore, TileKey } from '../store/ledger-log.js';

const FULL_TILE_BYTES = TILE_WIDTH * HASH_SIZE;

/** A full tile and, once a node was asked of it, its subtree's levels: `levels[r]` holds the nodes `r` above it. */
interface CachedTile {
  readonly tile: Buffer;
  levels?: Buffer[];
}

function expand(tile: Buffer): Buffer[] {
  const levels = [tile];
  for (let below = tile; below.length > HASH_SIZE; ) {
    const up: Buffer[] = [];
    for (let at = 0; at < below.length; at += 2 * HASH_SIZE) {
      up.push(nodeHash(below.subarray(at, at + HASH_SIZE), below.subarray(at + HASH_SIZE, at + 2 * HASH_SIZE)));
    }
    below = Buffer.concat(up);
    levels.push(below);
  }
  return levels;
}

export class TileReader implements NodeReader {
  readonly #log: LogStore;
  readonly #cache = new Map<string, CachedTile>();
  readonly #cacheSize: number;

  constructor(log: LogStore, cacheSize = 1024) {
    this.#log = log;
    this.#cacheSize = cacheSize;
  }

  /** Tiles by key, from the cache where possible, the rest in one read. */
  async #tiles(keys: readonly TileKey[]): Promise<Map<string, CachedTile | undefined>> {
    const out = new Map<string, CachedTile | undefined>();
    const missing: TileKey[] = [];
    for (const k of keys) {
      const key = `${k.level}/${k.index}`;
      if (out.has(key)) continue;
      const hit = this.#cache.get(key);
      if (hit) {
        this.#cache.delete(key); // re-insert: most recently used last
        this.#cache.set(key, hit);
      } else {
        missing.push(k);
      }
      out.set(key, hit);
    }
    const read = await this.#log.readTiles(missing);
    missing.forEach((k, i) => {
      const key = `${k.level}/${k.index}`;
      const tile = read[i];
      const cached = tile && { tile };
      out.set(key, cached);
      if (cached && tile.length === FULL_TILE_BYTES) {
        this.#cache.set(key, cached);
        if (this.#cache.size > this.#cacheSize) this.#cache.delete(this.#cache.keys().next().value!);
      }
    });
    return out;
  }

  async readNodes(ids: readonly NodeId[]): Promise<Buffer[]> {
    const spans = ids.map(tileSpan);
    const tiles = await this.#tiles(spans);
    return spans.map((s) => {
      const t = tiles.get(`${s.level}/${s.index}`);
      if (!t) throw new WritError('ERR_LEDGER_CORRUPT', { detail: `tile ${s.level}/${s.index} is missing` });
      if (t.tile.length !== FULL_TILE_BYTES) return tileSubtreeRoot(t.tile, s.offset, s.count);
      t.levels ??= expand(t.tile);
      const at = (s.offset / s.count) * HASH_SIZE;
      return t.levels[Math.log2(s.count)]!.subarray(at, at + HASH_SIZE);
    });
  }

  /** The first `width` hashes of tile `(level, index)`; `ERR_NOT_FOUND` when the tree has not got that far. */
  async tile(level: number, index: number, width = TILE_WIDTH): Promise<Buffer> {
    const tile = (await this.#tiles([{ level, index }])).get(`${level}/${index}`)?.tile;
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
