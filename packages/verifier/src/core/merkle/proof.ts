/**
 * Generating RFC 9162 inclusion (§2.1.3.1) and consistency (§2.1.4.1) proofs from stored perfect subtrees.
 *
 * A proof is planned first: each of its hashes is one node of the tree at the proof's size, and a node on the
 * right border of a tree whose size is not a power of two is folded from the perfect subtrees under it. The plan
 * names every perfect node needed, so a store answers one batched read of O(log n) hashes, whatever its layout.
 * @module
 */
import { WritError } from '../errors.js';
import { assertIndices, foldRight, type NodeId, perfectNodes, trailingZeros } from './nodes.js';

/** Reads perfect-subtree hashes, returned in the order asked. */
export interface NodeReader {
  readNodes(ids: readonly NodeId[]): Promise<readonly Uint8Array[]> | readonly Uint8Array[];
}

/** The perfect nodes behind each hash of a proof, in proof order. */
export type ProofPlan = NodeId[][];

/** The node `(level, index)` of a tree of `size` entries, as the perfect nodes that cover it. */
function nodeOfTree(level: number, index: number, size: number): NodeId[] {
  const width = 2 ** level;
  return perfectNodes(index * width, Math.min((index + 1) * width, size));
}

/** The siblings on the path from node `(level, index)` up to the root of a tree of `size` entries. */
function pathPlan(level: number, index: number, size: number, plan: ProofPlan): ProofPlan {
  let last = Math.floor((size - 1) / 2 ** level); // index of the rightmost node at this level
  while (last > 0) {
    if (index % 2 === 1) plan.push(nodeOfTree(level, index - 1, size));
    else if (index < last) plan.push(nodeOfTree(level, index + 1, size));
    index = Math.floor(index / 2);
    last = Math.floor(last / 2);
    level++;
  }
  return plan;
}

/** The plan of the inclusion proof of entry `index` in the tree of `size` entries (RFC 9162 §2.1.3.1 PATH). */
export function inclusionPlan(index: number, size: number): ProofPlan {
  assertIndices('ERR_LEDGER_RANGE_INVALID', index, size);
  if (index >= size) throw new WritError('ERR_LEDGER_RANGE_INVALID', { detail: `index ${index} >= size ${size}` });
  return pathPlan(0, index, size, []);
}

/**
 * The plan of the consistency proof between trees of `size1` and `size2` entries (RFC 9162 §2.1.4.1 PROOF):
 * the last perfect subtree of the smaller tree (left out when that tree is perfect, as the verifier holds its root)
 * followed by that subtree's path in the larger tree. Empty when the sizes are equal.
 */
export function consistencyPlan(size1: number, size2: number): ProofPlan {
  assertIndices('ERR_LEDGER_RANGE_INVALID', size1, size2);
  if (size1 === 0 || size1 > size2) {
    throw new WritError('ERR_LEDGER_RANGE_INVALID', { detail: `no consistency proof from ${size1} to ${size2}` });
  }
  if (size1 === size2) return [];
  const level = trailingZeros(size1);
  const index = size1 / 2 ** level - 1;
  return pathPlan(level, index, size2, index === 0 ? [] : [[{ level, index }]]);
}

/** Reads the nodes a plan names (one batch) and folds them into the proof's hashes. */
export async function resolvePlan(plan: ProofPlan, reader: NodeReader): Promise<Buffer[]> {
  const ids = plan.flat();
  const hashes = await reader.readNodes(ids);
  if (hashes.length !== ids.length) throw new WritError('ERR_INTERNAL', { detail: 'node reader answered short' });
  const proof: Buffer[] = [];
  let at = 0;
  for (const element of plan) {
    proof.push(foldRight(hashes.slice(at, at + element.length)));
    at += element.length;
  }
  return proof;
}

/** The inclusion proof of entry `index` in the tree of `size` entries. */
export async function inclusionProof(index: number, size: number, reader: NodeReader): Promise<Buffer[]> {
  return resolvePlan(inclusionPlan(index, size), reader);
}

/** The consistency proof from the tree of `size1` entries to the tree of `size2` entries. */
export async function consistencyProof(size1: number, size2: number, reader: NodeReader): Promise<Buffer[]> {
  return resolvePlan(consistencyPlan(size1, size2), reader);
}
