/**
 * The key schedule: every key Writ uses, derived from the root secrets (RFC 5869) and cached as `KeyObject`s once
 * per epoch, never on the request path.
 *
 * - Signing keys rotate every epoch. The JWKS publishes the next epoch's key before it signs, and keeps the keys of
 *   past epochs while a token they signed can still be valid (publish-before-sign, DESIGN.md invariant 3).
 * - `kid` is the RFC 7638 thumbprint of the public key, so it is derived, never stored, and reveals nothing new.
 * - Roots have generations. The highest generation that is not retired signs; older generations that are not
 *   retired still verify; every key of a retired generation is refused with `ERR_KEY_RETIRED`.
 * @module
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { checkOptionNames, clockOption, configError, intOption } from '../_options.js';
import { b64uEncode } from '../encoding.js';
import { WritError } from '../errors.js';
import { deriveBytes, ed25519FromSeed, P256_SEED_BYTES, p256FromBytes } from './derive.js';
import { type PublicJwk, publicJwk } from './jwk.js';
import { Secret } from './secret.js';
import type { KeySource, VerificationKey } from './source.js';
import { jwkThumbprint } from './thumbprint.js';

/** Algorithms a Writ signing key can have: Ed25519 (RFC 8037) by default, or P-256 (RFC 7518 §3.4). */
export type SigningAlgorithm = 'EdDSA' | 'ES256';

/** One root secret and its generation number. */
export interface RootKey {
  readonly generation: number;
  readonly secret: Secret;
}

/** Options of {@link KeySchedule}. */
export interface KeyScheduleOptions {
  /** Root secrets by generation. The highest generation not in `retiredGenerations` signs. */
  roots: readonly RootKey[];
  /** Generations whose keys are refused (compromise recovery). Their secrets may stay in `roots` so their `kid`s are recognised. */
  retiredGenerations?: readonly number[];
  /** Signing algorithm (default `EdDSA`). */
  alg?: SigningAlgorithm;
  /** Length of a signing epoch in seconds (default 86,400). */
  epochSeconds?: number;
  /** The longest lifetime of any token signed, in seconds: it decides how long past keys stay published. */
  maxTokenLifetime: number;
  /** Manual rotations so far: each one makes the already-published next key the signing key (`writ keys rotate`). */
  rotationOffset?: number;
  /** Clock in milliseconds (default `Date.now`). */
  now?: () => number;
}

/** A signing key of one epoch: its private key, its public key, and its identity. */
export interface SigningKey extends VerificationKey {
  readonly alg: SigningAlgorithm;
  readonly epoch: number;
  readonly generation: number;
  readonly privateKey: KeyObject;
}

/** A JWK Set as published at the JWKS endpoint (RFC 7517 §5). */
export interface Jwks {
  readonly keys: readonly PublicJwk[];
}

interface Window {
  readonly epoch: number;
  readonly signing: SigningKey;
  readonly byKid: ReadonlyMap<string, SigningKey>;
  readonly retiredKids: ReadonlySet<string>;
  readonly jwks: Jwks;
}

const OPTION_NAMES = [
  'roots',
  'retiredGenerations',
  'alg',
  'epochSeconds',
  'maxTokenLifetime',
  'rotationOffset',
  'now',
];
const MAX_GENERATION = 1_000_000;

/** Derives, caches and publishes Writ's keys. Implements {@link KeySource} for verifiers on the issuer side. */
export class KeySchedule implements KeySource {
  /** The signing algorithm. */
  readonly alg: SigningAlgorithm;
  /** Epoch length in seconds. */
  readonly epochSeconds: number;
  /** Longest token lifetime in seconds. */
  readonly maxTokenLifetime: number;
  /** The generation that signs. */
  readonly activeGeneration: number;
  readonly #roots: ReadonlyMap<number, Secret>;
  readonly #retired: ReadonlySet<number>;
  readonly #rotationOffset: number;
  readonly #pastEpochs: number;
  readonly #now: () => number;
  readonly #pairs = new Map<string, SigningKey>();
  readonly #macByAudience = new Map<string, VerificationKey>();
  readonly #macByKid = new Map<string, VerificationKey>();
  readonly #hmacKeys = new Map<string, KeyObject>();
  #window: Window | undefined;

  constructor(options: KeyScheduleOptions) {
    checkOptionNames('KeySchedule', options, OPTION_NAMES);
    const alg = options.alg ?? 'EdDSA';
    if (alg !== 'EdDSA' && alg !== 'ES256') throw configError('alg', 'must be EdDSA or ES256');
    this.alg = alg;
    this.epochSeconds = intOption('epochSeconds', options.epochSeconds, 86_400, 60, 366 * 86_400);
    this.maxTokenLifetime = intOption('maxTokenLifetime', options.maxTokenLifetime, undefined, 1, 366 * 86_400);
    this.#rotationOffset = intOption('rotationOffset', options.rotationOffset, 0, 0, 1_000_000);
    this.#now = clockOption('now', options.now);
    if (!Array.isArray(options.roots) || options.roots.length === 0) throw configError('roots', 'at least one root');
    const roots = new Map<number, Secret>();
    for (const r of options.roots) {
      const generation = intOption('roots[].generation', r?.generation, undefined, 0, MAX_GENERATION);
      if (!(r.secret instanceof Secret)) throw configError('roots[].secret', 'must be a Secret');
      if (roots.has(generation)) throw configError('roots', `generation ${generation} given twice`);
      roots.set(generation, r.secret);
    }
    const retired = options.retiredGenerations ?? [];
    if (!Array.isArray(retired)) throw configError('retiredGenerations', 'must be an array of generations');
    for (const g of retired) intOption('retiredGenerations[]', g, undefined, 0, MAX_GENERATION);
    this.#roots = roots;
    this.#retired = new Set(retired);
    const accepted = [...roots.keys()].filter((g) => !this.#retired.has(g));
    if (accepted.length === 0) throw configError('roots', 'every generation is retired');
    this.activeGeneration = Math.max(...accepted);
    // A token signed at the very end of epoch e-k expires maxTokenLifetime later: keep k = ceil(L / E) past epochs.
    this.#pastEpochs = Math.max(1, Math.ceil(this.maxTokenLifetime / this.epochSeconds));
    this.#current();
  }

  /** The current epoch number (rotation offset included). */
  epoch(): number {
    return Math.floor(this.#now() / 1000 / this.epochSeconds) + this.#rotationOffset;
  }

  /** The key that signs now: the active generation's key of the current epoch. */
  signingKey(): SigningKey {
    return this.#current().signing;
  }

  /** The published key set: previous (as many as tokens need), current and next epoch keys. */
  jwks(): Jwks {
    return this.#current().jwks;
  }

  /**
   * The signing key of one generation and epoch, published or not (to name the `kid` of a past epoch in a
   * revocation). Throws `ERR_INVALID_ARGUMENT` for an unknown generation.
   */
  keyAt(generation: number, epoch: number): SigningKey {
    if (!this.#roots.has(generation) || !Number.isSafeInteger(epoch) || epoch < 0) {
      throw new WritError('ERR_INVALID_ARGUMENT', { detail: `no key for generation ${generation}, epoch ${epoch}` });
    }
    return this.#pair(generation, epoch);
  }

  /** Every `kid` of the current window that belongs to `generation` (to revoke a generation's keys). */
  windowKids(generation: number): string[] {
    const first = Math.max(0, this.epoch() - this.#pastEpochs);
    const kids: string[] = [];
    if (!this.#roots.has(generation)) return kids;
    for (let e = first; e <= this.epoch() + 1; e++) kids.push(this.#pair(generation, e).kid);
    return kids;
  }

  /** Changes when the epoch window moves (and keys may have left it). */
  get revision(): number {
    return this.#current().epoch;
  }

  /** Resolves an exact `kid`: a signing key of the window, or an audience MAC key derived here. */
  resolve(kid: string): VerificationKey {
    const w = this.#current();
    const key = w.byKid.get(kid) ?? this.#macByKid.get(kid);
    if (key) return key;
    throw new WritError(w.retiredKids.has(kid) ? 'ERR_KEY_RETIRED' : 'ERR_KEY_NOT_FOUND');
  }

  /**
   * The HS256 key of one audience (RFC 7518 §3.2), for resource servers that prefer a shared MAC key to a JWKS.
   * Each audience's key is a separate derivation, so a verifier holding audience A's key can verify A's tokens and
   * nothing else. It belongs to the active generation and does not rotate with epochs (it is handed out of band).
   * Its `kid` is an HMAC of a fixed label under the key: it names the key without revealing it.
   */
  audienceMacKey(audience: string): VerificationKey {
    if (typeof audience !== 'string' || audience === '') {
      throw new WritError('ERR_INVALID_ARGUMENT', { detail: 'audience must be a non-empty string' });
    }
    let entry = this.#macByAudience.get(audience);
    if (!entry) {
      const generation = this.activeGeneration;
      const bytes = deriveBytes(this.#root(generation), {
        purpose: 'audience-mac',
        alg: 'HS256',
        generation,
        audience,
      });
      const key = createSecretKey(bytes);
      const kid = `hs.${b64uEncode(createHmac('sha256', key).update('writ/v1/kid').digest().subarray(0, 16))}`;
      entry = Object.freeze({ kid, alg: 'HS256', key, generation });
      this.#macByAudience.set(audience, entry);
      this.#macByKid.set(kid, entry);
    }
    return entry;
  }

  /** The HMAC-SHA256 key for opaque-token lookup hashes (only HMAC(lookup key, token) is ever stored). */
  lookupKey(generation = this.activeGeneration): KeyObject {
    return this.#hmacKey('opaque-lookup', generation);
  }

  /** The HMAC-SHA256 key that pseudonymises subject identifiers before they reach the ledger. */
  pseudonymKey(generation = this.activeGeneration): KeyObject {
    return this.#hmacKey('pseudonym', generation);
  }

  /** The HMAC-SHA256 key of stateless DPoP server nonces (RFC 9449 §8). */
  dpopNonceKey(): KeyObject {
    return this.#hmacKey('dpop-nonce', this.activeGeneration);
  }

  #root(generation: number): Secret {
    const secret = this.#roots.get(generation);
    if (!secret || this.#retired.has(generation)) {
      throw new WritError('ERR_INVALID_ARGUMENT', { detail: `generation ${generation} is unknown or retired` });
    }
    return secret;
  }

  #hmacKey(purpose: string, generation: number): KeyObject {
    const id = `${purpose}/${generation}`;
    let key = this.#hmacKeys.get(id);
    if (!key) {
      key = createSecretKey(deriveBytes(this.#root(generation), { purpose, alg: 'HMAC-SHA256', generation }));
      this.#hmacKeys.set(id, key);
    }
    return key;
  }

  #pair(generation: number, epoch: number): SigningKey {
    const id = `${generation}/${epoch}`;
    let key = this.#pairs.get(id);
    if (!key) {
      const secret = this.#roots.get(generation)!;
      const label = { purpose: 'token-signing', alg: this.alg, generation, epoch };
      const { privateKey, publicKey } =
        this.alg === 'EdDSA'
          ? ed25519FromSeed(deriveBytes(secret, label, 32))
          : p256FromBytes(deriveBytes(secret, label, P256_SEED_BYTES));
      const kid = jwkThumbprint(publicJwk(publicKey));
      key = Object.freeze({ kid, alg: this.alg, key: publicKey, privateKey, generation, epoch });
      this.#pairs.set(id, key);
    }
    return key;
  }

  /** The window of the current epoch, rebuilt (deriving only the keys it lacks) when the epoch changes. */
  #current(): Window {
    const epoch = this.epoch();
    if (this.#window?.epoch === epoch) return this.#window;
    const first = Math.max(0, epoch - this.#pastEpochs);
    const byKid = new Map<string, SigningKey>();
    const retiredKids = new Set<string>();
    const keep = new Set<string>();
    for (const generation of this.#roots.keys()) {
      const active = generation === this.activeGeneration;
      const retired = this.#retired.has(generation);
      // Only the active generation publishes a next key; an older one never signs again.
      const last = active || retired ? epoch + 1 : epoch;
      for (let e = first; e <= last; e++) {
        const key = this.#pair(generation, e);
        keep.add(`${generation}/${e}`);
        if (retired) retiredKids.add(key.kid);
        else byKid.set(key.kid, key);
      }
    }
    for (const id of this.#pairs.keys()) if (!keep.has(id)) this.#pairs.delete(id);
    const signing = this.#pair(this.activeGeneration, epoch);
    const published = [signing, ...[...byKid.values()].filter((k) => k !== signing)];
    const jwks = Object.freeze({
      keys: Object.freeze(
        published.map((k) => Object.freeze({ ...publicJwk(k.key), kid: k.kid, alg: k.alg, use: 'sig' })),
      ),
    });
    this.#window = Object.freeze({ epoch, signing, byKid, retiredKids, jwks });
    return this.#window;
  }
}
