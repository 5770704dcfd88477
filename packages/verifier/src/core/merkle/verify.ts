/**
 * Verifying RFC 9162 inclusion (§2.1.3.2) and consistency (§2.1.4.2) proofs, and their generalisation to subtrees
 * `[start, end)` (as in draft-ietf-plants-merkle-tree-certs §4.3–4.4), which lets a client check a whole tile or
 * entry bundle against a checkpoint. Every failure throws `ERR_PROOF_INVALID`; its `detail` says why, for logs.
 *
 * All proofs are walked the same way: from a node `(level, index)` up to the root of a tree of `size` entries,
 * taking a proof hash as the left sibling where the node is a right child, as the right sibling where one exists,
 * and none where the node is the last at its level (RFC 9162 trees are not padded).
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import { WritError } from '../errors.js';
import { EMPTY_ROOT, HASH_SIZE, nodeHash } from './hash.js';
import { assertIndices, bitLength, trailingZeros } from './nodes.js';

function fail(detail: string): never {
  throw new WritError('ERR_PROOF_INVALID', { detail });
}

function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function checkHash(h: Uint8Array, what: string): void {
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) fail(`${what} is not a ${HASH_SIZE}-byte hash`);
}

/**
 * Walks `seed`, the node `(level, index)`, up to the root of a tree of `size` entries with `path`, which must be
 * used up exactly. Returns the root, and the root of the subtree of height `subtreeLevel` that the node's left
 * siblings below that level complete (for consistency proofs).
 */
function walk(
  seed: Buffer,
  level: number,
  index: number,
  size: number,
  path: readonly Uint8Array[],
  subtreeLevel: number,
): { root: Buffer; subtree: Buffer } {
  let root = seed;
  let subtree = seed;
  let used = 0;
  let last = Math.floor((size - 1) / 2 ** level);
  for (; last > 0; level++) {
    if (index % 2 === 1 || index < last) {
      const sibling = path[used++];
      if (sibling === undefined) fail('proof too short');
      checkHash(sibling, 'proof element');
      if (index % 2 === 1) {
        root = nodeHash(sibling, root);
        if (level < subtreeLevel) subtree = nodeHash(sibling, subtree);
      } else {
        root = nodeHash(root, sibling);
      }
    }
    index = Math.floor(index / 2);
    last = Math.floor(last / 2);
  }
  if (used !== path.length) fail('proof too long');
  return { root, subtree };
}

/** The root that an inclusion proof of `leafHash` at `index` in a tree of `size` entries leads to. */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): Buffer {
  assertIndices('ERR_PROOF_INVALID', index, size);
  if (index >= size) fail(`index ${index} >= size ${size}`);
  checkHash(leafHash, 'leaf hash');
  return walk(Buffer.from(leafHash), 0, index, size, proof, 0).root;
}

/** Verifies that `leafHash` is entry `index` of the tree of `size` entries with root `root` (RFC 9162 §2.1.3.2). */
export function verifyInclusion(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  checkHash(root, 'root');
  if (!sameHash(rootFromInclusionProof(index, size, leafHash, proof), root)) fail('root mismatch');
}

/** True when `[start, end)` is a subtree: `start` is a multiple of the smallest power of two `>= end - start`. */
function isSubtree(start: number, end: number): boolean {
  return start <= end && start % 2 ** bitLength(Math.max(end - start, 1) - 1) === 0;
}

/** Verifies that `leafHash` is entry `index` of the subtree `[start, end)` whose root is `root`. */
export function verifySubtreeInclusion(
  index: number,
  start: number,
  end: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  assertIndices('ERR_PROOF_INVALID', index, start, end);
  if (!isSubtree(start, end)) fail(`[${start}, ${end}) is not a subtree`);
  if (index < start || index >= end) fail(`index ${index} outside [${start}, ${end})`);
  verifyInclusion(index - start, end - start, leafHash, proof, root);
}

/**
 * Verifies that the subtree `[start, end)` with root `subtreeRoot` is part of the tree of `size` entries with root
 * `root`. The proof is the subtree's last perfect node (left out when the subtree is itself perfect, as the
 * verifier holds its root) and then that node's path to the root.
 */
export function verifySubtreeConsistency(
  start: number,
  end: number,
  size: number,
  proof: readonly Uint8Array[],
  subtreeRoot: Uint8Array,
  root: Uint8Array,
): void {
  assertIndices('ERR_PROOF_INVALID', start, end, size);
  if (!isSubtree(start, end)) fail(`[${start}, ${end}) is not a subtree`);
  if (end > size) fail(`subtree end ${end} > size ${size}`);
  if (start === end) {
    // The empty subtree is part of every tree.
    if (proof.length > 0) fail('proof for an empty subtree');
    if (!sameHash(subtreeRoot, EMPTY_ROOT)) fail('empty subtree with a non-empty root');
    return;
  }
  if (start === 0 && end === size) {
    // The same tree: consistent exactly when the roots are the same bytes.
    if (proof.length > 0) fail('proof between identical trees');
    if (!sameHash(subtreeRoot, root)) fail('root mismatch');
    return;
  }
  checkHash(subtreeRoot, 'subtree root');
  checkHash(root, 'root');
  if (proof.length === 0) fail('empty proof');
  const height = bitLength(end - start - 1); // level of the node that holds the subtree
  const level = trailingZeros(end - start); // level of the subtree's last perfect node
  const perfect = level === height;
  const seed = perfect ? subtreeRoot : proof[0]!;
  checkHash(seed, 'proof element');
  const r = walk(Buffer.from(seed), level, end / 2 ** level - 1, size, perfect ? proof : proof.slice(1), height);
  if (!perfect && !sameHash(r.subtree, subtreeRoot)) fail('subtree root mismatch');
  if (!sameHash(r.root, root)) fail('root mismatch');
}

/**
 * Verifies that the tree of `size1` entries with root `root1` is a prefix of the tree of `size2` entries with root
 * `root2` (RFC 9162 §2.1.4.2). A proof from the empty tree is refused as meaningless.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  assertIndices('ERR_PROOF_INVALID', size1, size2);
  if (size1 === 0) fail('consistency with the empty tree is meaningless');
  verifySubtreeConsistency(0, size1, size2, proof, root1, root2);
}
