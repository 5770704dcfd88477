/**
 * Integration: growing the tree by a batch of entries. Pure and synchronous, so it runs inside the sequencing
 * transaction: from the stored tree (size and right frontier) it computes the new frontier and the hashes to
 * append to the tiles (every perfect node at a level that is a multiple of 8, RFC 9162 hashing, C2SP tlog-tiles).
 * @module
 */
import { leafHash, MerkleFrontier, TILE_HEIGHT, TILE_WIDTH } from '@writ/verifier';
import type { LogBatch, StoredTree, TileAppend } from '../store/ledger-log.js';

interface TileBuilder {
  level: number;
  index: number;
  offset: number;
  hashes: Buffer[];
}

/** The batch that appends `entries` to `tree`, and the new root. */
export function integrate(tree: StoredTree, entries: readonly Buffer[]): { batch: LogBatch; root: Buffer } {
  const frontier = MerkleFrontier.fromBytes(tree.size, tree.frontier);
  const tiles: TileBuilder[] = [];
  const current: Array<TileBuilder | undefined> = []; // the tile being appended to, per tile level
  const visit = (level: number, index: number, hash: Buffer) => {
    if (level % TILE_HEIGHT !== 0) return;
    const tileLevel = level / TILE_HEIGHT;
    const tileIndex = Math.floor(index / TILE_WIDTH);
    let t = current[tileLevel];
    if (t?.index !== tileIndex) {
      t = { level: tileLevel, index: tileIndex, offset: index - tileIndex * TILE_WIDTH, hashes: [] };
      current[tileLevel] = t;
      tiles.push(t);
    }
    t.hashes.push(hash);
  };
  for (const e of entries) frontier.append(leafHash(e), visit);
  const appends: TileAppend[] = tiles.map((t) => ({ ...t, hashes: Buffer.concat(t.hashes) }));
  return {
    batch: { entries, tiles: appends, tree: { size: frontier.size, frontier: frontier.toBytes() } },
    root: frontier.root(),
  };
}
