/**
 * The contract between a verifier and wherever its keys come from: the key schedule (the issuer), a static JWKS
 * (`StaticKeySource`), or the gateway's remote JWKS cache.
 * @module
 */
import type { KeyObject } from 'node:crypto';
import type { JwsAlgorithm } from '../_alg.js';

/** A key a token may be verified with. Its `alg` is the only algorithm it verifies (RFC 8725 §3.1). */
export interface VerificationKey {
  /** The exact `kid` tokens name (an RFC 7638 thumbprint for Writ's asymmetric keys). */
  readonly kid: string;
  /** The one algorithm this key verifies. */
  readonly alg: JwsAlgorithm;
  /** A public key, or the secret key for HS256. */
  readonly key: KeyObject;
  /** Root generation the key belongs to, when known. */
  readonly generation?: number;
  /** Signing epoch the key belongs to, when known. */
  readonly epoch?: number;
  /**
   * The private half of `key`, when the source holds it (only the issuer's own key schedule does). An EdDSA
   * signature is then checked by signing again: RFC 8032 signatures are deterministic, so the token's signature is
   * valid exactly when it equals ours, and signing costs a third of verifying.
   */
  readonly privateKey?: KeyObject;
}

/**
 * Resolves a `kid` to its key by exact match. Implementations throw `ERR_KEY_NOT_FOUND` for an unknown `kid` and
 * `ERR_KEY_RETIRED` for a key of a retired root generation. They never fetch keys a token points at (`jku`, `x5u`).
 */
export interface KeySource {
  /** The key named `kid`, synchronously when it can be (the verifier's hot path skips a tick then). */
  resolve(kid: string): VerificationKey | Promise<VerificationKey>;
  /**
   * Changes whenever a key may have been withdrawn (a rotation window moved, a JWKS was refreshed). The verified-token
   * cache drops entries made under another revision. Omit it for a key set that never changes.
   */
  readonly revision?: number;
}
