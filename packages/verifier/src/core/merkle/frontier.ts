/**
 * The right frontier of a Merkle tree (a compact range starting at entry 0): the roots of the perfect subtrees
 * that cover `[0, size)`, one for each bit set in `size`. It is all a log needs to append entries and compute its
 * root incrementally, in O(log n) memory, and it reports every perfect node it completes so a store can persist
 * exactly those (RFC 9162 §2.1.1 hashing; the compact-range idea of transparency-dev/merkle).
 * @module
 */
import { WritError } from '../errors.js';
import { EMPTY_ROOT, HASH_SIZE, nodeHash } from './hash.js';
import { assertIndices, bitLength, foldRight } from './nodes.js';

/** Receives each perfect node as soon as it is complete: its level, index and hash. */
export type NodeVisitor = (level: number, index: number, hash: Buffer) => void;

function popCount(x: number): number {
  let n = 0;
  for (let level = bitLength(x) - 1; level >= 0; level--) if (Math.floor(x / 2 ** level) % 2 === 1) n++;
  return n;
}

/** An append-only Merkle tree that keeps only its right frontier. */
export class MerkleFrontier {
  #size: number;
  readonly #hashes: Buffer[];

  /** A frontier of `size` entries from its perfect subtree roots, largest first (as {@link hashes} returns them). */
  constructor(size = 0, hashes: readonly Uint8Array[] = []) {
    assertIndices('ERR_INVALID_ARGUMENT', size);
    if (hashes.length !== popCount(size) || hashes.some((h) => h.length !== HASH_SIZE)) {
      throw new WritError('ERR_INVALID_ARGUMENT', { detail: `frontier does not match size ${size}` });
    }
    this.#size = size;
    this.#hashes = hashes.map((h) => Buffer.from(h));
  }

  /** A frontier from the bytes {@link toBytes} wrote. */
  static fromBytes(size: number, bytes: Uint8Array): MerkleFrontier {
    if (bytes.length % HASH_SIZE !== 0) throw new WritError('ERR_INVALID_ARGUMENT', { detail: 'frontier length' });
    const hashes: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += HASH_SIZE) hashes.push(bytes.subarray(i, i + HASH_SIZE));
    return new MerkleFrontier(size, hashes);
  }

  /** Number of entries. */
  get size(): number {
    return this.#size;
  }

  /** The perfect subtree roots covering `[0, size)`, largest (leftmost) first. */
  get hashes(): readonly Buffer[] {
    return this.#hashes;
  }

  /** Appends one leaf hash; `visit` sees the leaf and every node it completes, lowest level first. */
  append(leaf: Buffer, visit?: NodeVisitor): void {
    let index = this.#size;
    let level = 0;
    let h = leaf;
    visit?.(0, index, h);
    while (index % 2 === 1) {
      h = nodeHash(this.#hashes.pop()!, h);
      index = (index - 1) / 2;
      level++;
      visit?.(level, index, h);
    }
    this.#hashes.push(h);
    this.#size++;
  }

  /** The Merkle tree hash of `[0, size)` (RFC 9162 §2.1.1); the empty root for size 0. */
  root(): Buffer {
    return this.#size === 0 ? Buffer.from(EMPTY_ROOT) : foldRight(this.#hashes);
  }

  /** The frontier hashes, concatenated. */
  toBytes(): Buffer {
    return Buffer.concat(this.#hashes);
  }

  /** An independent copy. */
  clone(): MerkleFrontier {
    return new MerkleFrontier(this.#size, this.#hashes);
  }
}
