/**
 * `@writ/verifier`: Writ's core (key schedule, tokens, strict verification, DPoP, Merkle proofs, signed checkpoints)
 * and gateway (middleware that verifies offline inside a service). Pure TypeScript on `node:crypto`.
 * @module
 */

// --- core: keys, tokens, verification, DPoP ---
export type { JwsAlgorithm } from './core/_alg.js';
// --- core: ledger records, Merkle trees, signed notes and checkpoints ---
export { canonicalBytes, canonicalJson } from './core/canonical.js';
export { normalizeHtu } from './core/dpop/htu.js';
export { DpopNonces, type DpopNoncesOptions } from './core/dpop/nonce.js';
export { MemoryReplayCache, type MemoryReplayCacheOptions, type ReplayCache } from './core/dpop/replay.js';
export {
  accessTokenHash,
  type DpopRequest,
  DpopVerifier,
  type DpopVerifierOptions,
  type VerifiedDpopProof,
} from './core/dpop/verify.js';
export { b64Decode, b64uDecode, b64uEncode, utf8Decode } from './core/encoding.js';
export * from './core/errors.js';
export { isJsonObject, parseStrictJson, type StrictJsonOptions } from './core/json.js';
export { VerifiedTokenCache, type VerifiedTokenCacheOptions } from './core/jwt/cache.js';
export type {
  AccessTokenClaims,
  ActorClaim,
  AuthorizationDetail,
  AuthorizationRequirement,
  Confirmation,
  Provenance,
} from './core/jwt/claims.js';
export { checkAuthorizationDetails } from './core/jwt/claims.js';
export {
  type AccessTokenRequest,
  AccessTokenSigner,
  type AccessTokenSignerOptions,
  type SignedAccessToken,
  type SignOptions,
} from './core/jwt/sign.js';
export {
  type TokenBinding,
  type TokenKeyInfo,
  type VerifiedAccessToken,
  Verifier,
  type VerifierOptions,
  type VerifyContext,
} from './core/jwt/verify.js';
export { type DerivationLabel, derivationInfo, deriveBytes, ed25519FromSeed, HKDF_SALT } from './core/keys/derive.js';
export { importPublicJwk, type PublicJwk, publicJwk } from './core/keys/jwk.js';
export {
  type Jwks,
  KeySchedule,
  type KeyScheduleOptions,
  type RootKey,
  type SigningAlgorithm,
  type SigningKey,
} from './core/keys/schedule.js';
export {
  createSecretFile,
  type LoadSecretOptions,
  loadSecret,
  parseSecret,
  Secret,
  secretFileIsExposed,
} from './core/keys/secret.js';
export type { KeySource, VerificationKey } from './core/keys/source.js';
export { StaticKeySource, type StaticKeySourceOptions } from './core/keys/static-source.js';
export { jwkThumbprint } from './core/keys/thumbprint.js';
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
export { createOpaqueToken, lookupHash, type OpaqueTokenKind, parseOpaqueToken } from './core/opaque.js';
export { tokenClaimsHash } from './core/record/claims-hash.js';
export { decodeRecord } from './core/record/decode.js';
export { encodeRecord, MAX_RECORD_BYTES } from './core/record/encode.js';
export { validateRecord } from './core/record/schema.js';
export type * from './core/record/types.js';
export { RECORD_VERSION } from './core/record/types.js';
