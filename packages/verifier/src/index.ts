/**
 * `@writ/verifier`: Writ's core (key schedule, tokens, strict verification, DPoP, Merkle proofs, signed checkpoints)
 * and gateway (middleware that verifies offline inside a service). Pure TypeScript on `node:crypto`.
 * @module
 */

export { canonicalBytes, canonicalJson } from './core/canonical.js';
export { b64Decode, b64uDecode, b64uEncode, utf8Decode } from './core/encoding.js';
export * from './core/errors.js';
export { isJsonObject, parseStrictJson, type StrictJsonOptions } from './core/json.js';
export { deriveBytes, ed25519FromSeed } from './core/keys/derive.js';
export { createSecretFile, loadSecret, Secret, secretFileIsExposed } from './core/keys/secret.js';
export { MerkleFrontier, type NodeVisitor } from './core/merkle/frontier.js';
export { EMPTY_ROOT, HASH_SIZE, leafHash, nodeHash } from './core/merkle/hash.js';
export { type NodeId, perfectNodes } from './core/merkle/nodes.js';
export {
  consistencyPlan,
  consistencyProof,
  inclusionPlan,
  inclusionProof,
  type NodeReader,
  type ProofPlan,
  resolvePlan,
} from './core/merkle/proof.js';
export {
  decodeEntryBundle,
  encodeEntryBundle,
  entryBundlePath,
  nodeFromTile,
  parseTilePath,
  TILE_HEIGHT,
  TILE_WIDTH,
  type TileRequest,
  type TileSpan,
  tileLevels,
  tilePath,
  tileSpan,
  tileWidth,
} from './core/merkle/tiles.js';
export {
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
  verifySubtreeConsistency,
  verifySubtreeInclusion,
} from './core/merkle/verify.js';
export {
  type Checkpoint,
  formatCheckpoint,
  type OpenedCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
} from './core/note/checkpoint.js';
export {
  ed25519KeyId,
  ed25519NoteSigner,
  ed25519VerifierKey,
  isValidKeyName,
  MAX_NOTE_SIGNATURES,
  type NoteSignature,
  type NoteSigner,
  type NoteVerifier,
  type OpenedNote,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
} from './core/note/note.js';
export { tokenClaimsHash } from './core/record/claims-hash.js';
export { decodeRecord } from './core/record/decode.js';
export { encodeRecord, MAX_RECORD_BYTES } from './core/record/encode.js';
export { validateRecord } from './core/record/schema.js';
export type * from './core/record/types.js';
export { RECORD_VERSION } from './core/record/types.js';
