/**
 * Addressing the nodes of a Merkle tree. A node is named by `(level, index)`: level 0 holds the leaf hashes, and
 * node `(l, i)` covers the entries `[i·2^l, (i+1)·2^l)`. A node whose whole range lies inside the tree is
 * *perfect*: its hash never changes once the tree has grown past it, so storage keeps only perfect nodes; any other
 * hash a proof needs (the right border of a tree whose size is not a power of two) is folded from perfect ones.
 *
 * Sizes and indices are plain numbers up to `Number.MAX_SAFE_INTEGER`; no 32-bit bit operators are used on them.
 * @module
 */
import { type ErrorCode, WritError } from '../errors.js';
import { nodeHash } from './hash.js';

/** A perfect subtree: `level` above the leaves, `index` from the left at that level. */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

const TWO_32 = 2 ** 32;

/** Number of bits needed to write `x` (0 for 0). */
export function bitLength(x: number): number {
  return x < TWO_32 ? 32 - Math.clz32(x) : 32 + bitLength(Math.floor(x / TWO_32));
}

/** Number of trailing zero bits of `x > 0`. */
export function trailingZeros(x: number): number {
  let n = 0;
  while (x % 2 === 0) {
    x /= 2;
    n++;
  }
  return n;
}

/** Throws `code` unless every value is a non-negative safe integer. */
export function assertIndices(code: ErrorCode, ...values: number[]): void {
  for (const v of values) {
    if (!Number.isSafeInteger(v) || v < 0) throw new WritError(code, { detail: `not a valid tree index: ${v}` });
  }
}

/**
 * The perfect subtrees that exactly cover `[begin, end)`, largest (leftmost) first. `begin` must be a multiple of
 * the largest power of two not above `end - begin`, which holds for every range this module asks about.
 */
export function perfectNodes(begin: number, end: number): NodeId[] {
  const out: NodeId[] = [];
  let pos = begin;
  for (let level = bitLength(end - begin) - 1; level >= 0; level--) {
    const width = 2 ** level;
    if (pos + width <= end) {
      out.push({ level, index: pos / width });
      pos += width;
    }
  }
  return out;
}

/** Hashes perfect subtree roots (left to right) into the root of the range they cover (RFC 9162 §2.1.1). */
export function foldRight(hashes: readonly Uint8Array[]): Buffer {
  let h: Buffer = Buffer.from(hashes[hashes.length - 1]!);
  for (let i = hashes.length - 2; i >= 0; i--) h = nodeHash(hashes[i]!, h);
  return h;
}
