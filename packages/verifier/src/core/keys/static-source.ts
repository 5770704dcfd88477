/**
 * A fixed key set: a JWKS (for a verifier that runs from the issuer's published keys alone) and/or explicit keys
 * (an audience's HS256 MAC key handed to one resource server).
 * @module
 */

import { isJwsAlgorithm, type JwsAlgorithm, keyFitsAlg } from '../_alg.js';
import { configError } from '../_options.js';
import { WritError } from '../errors.js';
import { isJsonObject } from '../json.js';
import { importPublicJwk } from './jwk.js';
import type { KeySource, VerificationKey } from './source.js';

/** Options of {@link StaticKeySource}. */
export interface StaticKeySourceOptions {
  /** A JWK Set (RFC 7517 §5). Every key needs a `kid`; `alg` is inferred for OKP Ed25519 and EC P-256 keys. */
  jwks?: { keys: readonly unknown[] };
  /** Keys given directly, e.g. `schedule.audienceMacKey(aud)`. */
  keys?: readonly VerificationKey[];
}

const INFERRED_ALG: Readonly<Record<string, JwsAlgorithm>> = { 'OKP/Ed25519': 'EdDSA', 'EC/P-256': 'ES256' };

function jwkToKey(jwk: unknown, index: number): VerificationKey {
  const name = `jwks.keys[${index}]`;
  if (!isJsonObject(jwk)) throw configError(name, 'not an object');
  if (typeof jwk.kid !== 'string' || jwk.kid === '') throw configError(name, 'kid is required');
  if (jwk.use !== undefined && jwk.use !== 'sig') throw configError(name, 'use must be "sig"');
  const alg = jwk.alg ?? INFERRED_ALG[`${String(jwk.kty)}/${String(jwk.crv)}`];
  if (!isJwsAlgorithm(alg) || alg === 'HS256') throw configError(name, 'alg is missing or not a signature algorithm');
  const key = importPublicJwk(jwk, 'ERR_CONFIG_INVALID');
  return { kid: jwk.kid, alg, key };
}

/** A {@link KeySource} over a fixed set of keys, validated at construction (key type bound to `alg`, unique `kid`). */
export class StaticKeySource implements KeySource {
  readonly #keys = new Map<string, VerificationKey>();

  constructor(options: StaticKeySourceOptions) {
    const all = [...(options.jwks?.keys ?? []).map(jwkToKey), ...(options.keys ?? [])];
    if (all.length === 0) throw configError('StaticKeySource', 'no keys given');
    for (const k of all) {
      if (!keyFitsAlg(k.key, k.alg)) throw configError(`key ${k.kid}`, `key type does not fit ${k.alg}`);
      if (this.#keys.has(k.kid)) throw configError(`key ${k.kid}`, 'duplicate kid');
      this.#keys.set(k.kid, Object.freeze({ ...k }));
    }
  }

  resolve(kid: string): VerificationKey {
    const key = this.#keys.get(kid);
    if (!key) throw new WritError('ERR_KEY_NOT_FOUND');
    return key;
  }
}
