/**
 * RFC 9162 §2.1.1 Merkle tree hashing with SHA-256 and domain separation: a leaf is `SHA-256(0x00 || entry)`, an
 * interior node `SHA-256(0x01 || left || right)`, and the empty tree `SHA-256()`. The prefixes keep a leaf from
 * ever being passed off as a node (second-preimage resistance).
 * @module
 */
import { hash } from 'node:crypto';

/** Bytes in every tree hash (SHA-256). */
export const HASH_SIZE = 32;

const LEAF_PREFIX = Buffer.of(0x00);
const NODE_PREFIX = Buffer.of(0x01);

/** The root of the empty tree, `SHA-256("")` (RFC 9162 §2.1.1). */
export const EMPTY_ROOT: Buffer = hash('sha256', Buffer.alloc(0), 'buffer');

/** `SHA-256(0x00 || entry)`. */
export function leafHash(entry: Uint8Array): Buffer {
  return hash('sha256', Buffer.concat([LEAF_PREFIX, entry]), 'buffer');
}

/** `SHA-256(0x01 || left || right)`. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return hash('sha256', Buffer.concat([NODE_PREFIX, left, right]), 'buffer');
}
