/**
 * The C2SP tlog-tiles layout (https://c2sp.org/tlog-tiles): the tree's hashes in tiles of height 8. A tile at
 * level L holds up to 256 consecutive hashes of tree level 8·L (level 0: leaf hashes); the levels in between are
 * recomputed from them. The rightmost tiles are partial and grow in place; an entry bundle holds the entries of one
 * level-0 tile, each prefixed with its big-endian uint16 length.
 * @module
 */
import { WritError } from '../errors.js';
import { HASH_SIZE, nodeHash } from './hash.js';
import { assertIndices, type NodeId } from './nodes.js';

/** Tree levels per tile. */
export const TILE_HEIGHT = 8;
/** Hashes in a full tile (and entries in a full bundle). */
export const TILE_WIDTH = 256;

/** Where a perfect node's hashes sit: tile `(level, index)`, `count` hashes from `offset`. */
export interface TileSpan {
  readonly level: number;
  readonly index: number;
  readonly offset: number;
  readonly count: number;
}

/** The tile hashes that a perfect node is the Merkle root of. */
export function tileSpan(node: NodeId): TileSpan {
  const level = Math.floor(node.level / TILE_HEIGHT);
  const count = 2 ** (node.level - level * TILE_HEIGHT);
  const first = node.index * count;
  const index = Math.floor(first / TILE_WIDTH);
  return { level, index, offset: first - index * TILE_WIDTH, count };
}

/**
 * Every level of the subtree over a tile's hashes, as far as they complete it: `levels[r]` holds the nodes `r`
 * levels above the tile's own, so a perfect node with `tileSpan` `{offset, count}` is hash `offset / count` of
 * `levels[log2(count)]`. A full tile gives 9 levels (255 hashes computed); a partial one as many whole pairs as it has.
 */
export function tileLevels(tile: Uint8Array): Buffer[] {
  const levels = [Buffer.from(tile.buffer, tile.byteOffset, tile.length - (tile.length % HASH_SIZE))];
  for (let below = levels[0]!; below.length >= 2 * HASH_SIZE; ) {
    const up: Buffer[] = [];
    for (let at = 0; at + 2 * HASH_SIZE <= below.length; at += 2 * HASH_SIZE) {
      up.push(nodeHash(below.subarray(at, at + HASH_SIZE), below.subarray(at + HASH_SIZE, at + 2 * HASH_SIZE)));
    }
    below = Buffer.concat(up);
    levels.push(below);
  }
  return levels;
}

/** The hash of the perfect node at `span` from the levels of its tile; `ERR_LEDGER_CORRUPT` if they lack it. */
export function nodeFromTile(levels: readonly Buffer[], span: TileSpan): Buffer {
  const at = (span.offset / span.count) * HASH_SIZE;
  const row = levels[Math.log2(span.count)];
  if (!row || row.length < at + HASH_SIZE) {
    throw new WritError('ERR_LEDGER_CORRUPT', { detail: `tile ${span.level}/${span.index} is shorter than the tree` });
  }
  return row.subarray(at, at + HASH_SIZE);
}

/** Number of hashes in tile `(level, index)` of a tree of `size` entries: 0 (absent), 1..255 (partial) or 256. */
export function tileWidth(level: number, index: number, size: number): number {
  const hashes = Math.floor(size / TILE_WIDTH ** level);
  return Math.max(0, Math.min(TILE_WIDTH, hashes - index * TILE_WIDTH));
}

function encodeIndex(index: number): string {
  const digits = String(index);
  const groups: string[] = [];
  for (let end = digits.length; end > 0; end -= 3) groups.unshift(digits.slice(Math.max(0, end - 3), end));
  groups[0] = groups[0]!.padStart(3, '0');
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

function suffix(width: number): string {
  return width === TILE_WIDTH ? '' : `.p/${width}`;
}

/** `tile/<L>/<N>[.p/<W>]`, with N in 3-digit groups (`x001/x234/067`). */
export function tilePath(level: number, index: number, width = TILE_WIDTH): string {
  assertIndices('ERR_INVALID_ARGUMENT', level, index, width);
  return `tile/${level}/${encodeIndex(index)}${suffix(width)}`;
}

/** `tile/entries/<N>[.p/<W>]`. */
export function entryBundlePath(index: number, width = TILE_WIDTH): string {
  assertIndices('ERR_INVALID_ARGUMENT', index, width);
  return `tile/entries/${encodeIndex(index)}${suffix(width)}`;
}

/** A parsed tile or entry-bundle path. */
export interface TileRequest {
  /** Tile level, or `entries` for an entry bundle. */
  readonly level: number | 'entries';
  readonly index: number;
  /** 256 for a full tile, 1..255 for a partial one. */
  readonly width: number;
}

const TILE_PATH =
  /^tile\/(0|[1-9][0-9]?|entries)\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([1-9][0-9]?|1[0-9]{2}|2[0-4][0-9]|25[0-5]))?$/;

/** Parses a tlog-tiles path (without the log prefix). Throws `ERR_NOT_FOUND` for anything else. */
export function parseTilePath(path: string): TileRequest {
  const m = TILE_PATH.exec(path);
  if (m) {
    const level = m[1] === 'entries' ? 'entries' : Number(m[1]);
    const index = Number(m[2]!.replace(/[x/]/g, ''));
    const width = m[3] === undefined ? TILE_WIDTH : Number(m[3]);
    const canonical = Number.isSafeInteger(index) && encodeIndex(index) === m[2];
    if (canonical && (level === 'entries' || level < 64)) {
      return { level, index, width };
    }
  }
  throw new WritError('ERR_NOT_FOUND', { detail: 'not a tile path' });
}

/** An entry bundle: each entry as a big-endian uint16 length and its bytes. */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Buffer {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    if (e.length > 0xffff) throw new WritError('ERR_INVALID_ARGUMENT', { detail: 'entry longer than 65535 bytes' });
    parts.push(Buffer.of(e.length >> 8, e.length & 0xff), e);
  }
  return Buffer.concat(parts);
}

/** The entries of an entry bundle. Throws `ERR_LEDGER_CORRUPT` when the lengths do not add up. */
export function decodeEntryBundle(bundle: Uint8Array): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bundle.length; ) {
    if (at + 2 > bundle.length) throw new WritError('ERR_LEDGER_CORRUPT', { detail: 'truncated entry bundle' });
    const n = (bundle[at]! << 8) | bundle[at + 1]!;
    if (at + 2 + n > bundle.length) throw new WritError('ERR_LEDGER_CORRUPT', { detail: 'truncated entry bundle' });
    out.push(Buffer.from(bundle.subarray(at + 2, at + 2 + n)));
    at += 2 + n;
  }
  return out;
}
