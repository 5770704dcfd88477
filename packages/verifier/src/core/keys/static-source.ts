/**
 * A fixed key set: a JWKS (for a verifier that runs from the issuer's published keys alone) and/or explicit keys
 * (an audience's HS256 MAC key handed to one resource server).
 * @module
 */

import { keyFitsAlg } from '../_alg.js';
import { configError } from '../_options.js';
import { WritError } from '../errors.js';
import { jwkVerificationKey } from './jwk.js';
import type { KeySource, VerificationKey } from './source.js';

/** Options of {@link StaticKeySource}. */
export interface StaticKeySourceOptions {
  /** A JWK Set (RFC 7517 §5). Every key needs a `kid`; `alg` is inferred for OKP Ed25519 and EC P-256 keys. */
  jwks?: { keys: readonly unknown[] };
  /** Keys given directly, e.g. `schedule.audienceMacKey(aud)`. */
  keys?: readonly VerificationKey[];
}

/** A {@link KeySource} over a fixed set of keys, validated at construction (key type bound to `alg`, unique `kid`). */
export class StaticKeySource implements KeySource {
  readonly #keys = new Map<string, VerificationKey>();

  constructor(options: StaticKeySourceOptions) {
    const fromJwks = (options.jwks?.keys ?? []).map((jwk, i) =>
      jwkVerificationKey(jwk, 'ERR_CONFIG_INVALID', `jwks.keys[${i}]`),
    );
    const all = [...fromJwks, ...(options.keys ?? [])];
    if (all.length === 0) throw configError('StaticKeySource', 'no keys given');
    for (const k of all) {
      if (!keyFitsAlg(k.key, k.alg)) throw configError(`key ${k.kid}`, `key type does not fit ${k.alg}`);
      if (this.#keys.has(k.kid)) throw configError(`key ${k.kid}`, 'duplicate kid');
      // Public halves only: a static key set is what a verifier that never signs is given.
      const { kid, alg, key, generation, epoch } = k;
      this.#keys.set(kid, Object.freeze({ kid, alg, key, generation, epoch }));
    }
  }

  resolve(kid: string): VerificationKey {
    const key = this.#keys.get(kid);
    if (!key) throw new WritError('ERR_KEY_NOT_FOUND');
    return key;
  }
}
