/**
 * Strict provenance (`docs/verifier-protocol.md`, "Strict provenance"): proof that a token's issuance record is in
 * the issuer's ledger, so a token signed with the right key but minted outside the issuer (a stolen root secret)
 * is refused. For a token claiming `provenance: {log, index}`:
 *
 * 1. a checkpoint covering `index`, signed by the pinned log key, of the pinned origin (C2SP tlog-checkpoint);
 * 2. entry `index`, which must decode to a `token.issued` record with this token's `jti` and claims hash;
 * 3. its RFC 9162 inclusion proof against that checkpoint's root.
 *
 * Nothing the issuer serves is trusted but through the pinned key: a forged entry or proof fails step 3, a forged
 * checkpoint step 1. Results are cached per `jti` together with the claims hash they were proven for (a token that
 * reuses a logged `jti` with other claims is proven again, and fails), until the token expires; refusals are cached
 * too, so a forged token costs the ledger one round of requests. An unreachable ledger is `ERR_LEDGER_UNAVAILABLE`
 * (503) and is not cached.
 * @module
 */
import { checkOptionNames, clockOption, configError, intOption, stringOption } from '../core/_options.js';
import { b64Decode } from '../core/encoding.js';
import { isWritError, WritError } from '../core/errors.js';
import { isJsonObject } from '../core/json.js';
import { VerifiedTokenCache } from '../core/jwt/cache.js';
import type { AccessTokenClaims } from '../core/jwt/claims.js';
import { leafHash } from '../core/merkle/hash.js';
import { verifyInclusion } from '../core/merkle/verify.js';
import { type Checkpoint, openCheckpoint } from '../core/note/checkpoint.js';
import { type NoteVerifier, parseVerifierKey } from '../core/note/note.js';
import { tokenClaimsHash } from '../core/record/claims-hash.js';
import { decodeRecord } from '../core/record/decode.js';
import { issuerRequest, jsonObject, signalOption, type UrlSource, urlSourceOption } from './_http.js';

/** Options of {@link ProvenanceChecker}. */
export interface ProvenanceCheckerOptions {
  /** The log's signed-note verifier key (`<origin>+<key id>+<base64 key>`), pinned: obtained out of band. */
  logKey: string;
  /** The ledger's base URL (`writ_ledger_endpoint`); `/checkpoint`, `/entries`, `/proof/inclusion` are below it. */
  ledger: UrlSource;
  /** The log's origin, when it is not the key's name. */
  origin?: string;
  /** Tokens whose result is remembered (default 100,000). */
  maxEntries?: number;
  /** Milliseconds for one request to the ledger (default 5,000). */
  timeout?: number;
  /** Aborts requests in flight. */
  signal?: AbortSignal;
  /** Clock in milliseconds (default `Date.now`). */
  now?: () => number;
}

/** Counters of a {@link ProvenanceChecker}. */
export interface ProvenanceStats {
  /** Tokens proven from the ledger (cache hits not counted). */
  readonly proven: number;
  /** Tokens refused: no such record, or a proof that fails. */
  readonly refused: number;
  /** Checkpoints fetched and verified. */
  readonly checkpoints: number;
  /** Results held. */
  readonly cached: number;
}

interface Result {
  readonly claimsHash: string;
  readonly error: WritError | undefined;
}

const OPTION_NAMES = ['logKey', 'ledger', 'origin', 'maxEntries', 'timeout', 'signal', 'now'];
const MAX_LEDGER_BYTES = 256 * 1024;
const MAX_PROOF_HASHES = 64;

function unproven(detail: string, cause?: unknown): WritError {
  return new WritError('ERR_PROVENANCE_UNPROVEN', { detail, cause });
}

/** Proves tokens' issuance records from the ledger. */
export class ProvenanceChecker {
  readonly #verifier: NoteVerifier;
  readonly #origin: string;
  readonly #ledger: () => Promise<string>;
  readonly #timeout: number;
  readonly #signal: AbortSignal | undefined;
  readonly #now: () => number;
  readonly #results: VerifiedTokenCache<Result>;
  /** Results of the tokens being proven now, by jti and claims hash, shared by concurrent requests. */
  readonly #pending = new Map<string, Promise<void>>();
  /** Already checked this claims object (the verifier's cache hands out the same frozen object for a token). */
  readonly #seen = new WeakSet<object>();
  #checkpoint: Checkpoint | undefined;
  #checkpointFetch: Promise<Checkpoint> | undefined;
  #proven = 0;
  #refused = 0;
  #checkpoints = 0;

  constructor(options: ProvenanceCheckerOptions) {
    checkOptionNames('provenance', options, OPTION_NAMES);
    try {
      this.#verifier = parseVerifierKey(stringOption('provenance.logKey', options.logKey));
    } catch (cause) {
      throw configError('provenance.logKey', `not a signed-note verifier key (${(cause as Error).message})`);
    }
    this.#origin =
      options.origin === undefined ? this.#verifier.name : stringOption('provenance.origin', options.origin);
    this.#ledger = urlSourceOption('provenance.ledger', options.ledger);
    this.#timeout = intOption('provenance.timeout', options.timeout, 5000, 1, 120_000);
    this.#results = new VerifiedTokenCache({
      maxEntries: intOption('provenance.maxEntries', options.maxEntries, 100_000, 1, 10_000_000),
    });
    this.#signal = signalOption('provenance.signal', options.signal);
    this.#now = clockOption('provenance.now', options.now);
  }

  /** The checker's counters. */
  get stats(): ProvenanceStats {
    return { proven: this.#proven, refused: this.#refused, checkpoints: this.#checkpoints, cached: this.#results.size };
  }

  /**
   * Resolves when `claims` are those of a token whose issuance record the ledger proves; rejects with
   * `ERR_PROVENANCE_MISSING`, `ERR_PROVENANCE_UNPROVEN` or `ERR_LEDGER_UNAVAILABLE`.
   */
  async check(claims: Readonly<AccessTokenClaims>): Promise<void> {
    if (this.#seen.has(claims)) return;
    const provenance = claims.provenance;
    if (provenance === undefined) throw new WritError('ERR_PROVENANCE_MISSING');
    const claimsHash = tokenClaimsHash(claims);
    const key = VerifiedTokenCache.key(claims.jti);
    const known = this.#results.get(key, this.#now());
    if (known?.claimsHash === claimsHash) {
      if (known.error) throw known.error;
      this.#seen.add(claims);
      return;
    }
    const id = `${key}.${claimsHash}`;
    let pending = this.#pending.get(id);
    if (pending === undefined) {
      pending = this.#prove(claims, claimsHash).then(
        () => this.#remember(key, claims, { claimsHash, error: undefined }),
        (e: unknown) => {
          if (!isWritError(e, 'ERR_PROVENANCE_UNPROVEN')) throw e;
          this.#remember(key, claims, { claimsHash, error: e });
          throw e;
        },
      );
      pending.catch(() => {}).finally(() => this.#pending.delete(id));
      this.#pending.set(id, pending);
    }
    await pending;
    this.#seen.add(claims);
  }

  #remember(key: string, claims: Readonly<AccessTokenClaims>, result: Result): void {
    if (result.error) this.#refused++;
    else this.#proven++;
    this.#results.set(key, result, claims.exp * 1000, 200);
  }

  async #prove(claims: Readonly<AccessTokenClaims>, claimsHash: string): Promise<void> {
    const { log, index } = claims.provenance!;
    if (log !== this.#origin) throw unproven(`provenance names log ${log}`);
    const checkpoint = await this.#checkpointCovering(index);
    const base = await this.#ledger();
    const entries = await this.#get(`${base}/entries?start=${index}&end=${index + 1}`);
    const entry = Array.isArray(entries.entries)
      ? entries.entries.find((e) => isJsonObject(e) && e.index === index)
      : undefined;
    if (!isJsonObject(entry) || typeof entry.leaf !== 'string') throw unproven(`no entry ${index}`);
    let leaf: Buffer;
    try {
      leaf = b64Decode(entry.leaf, 'ERR_PROVENANCE_UNPROVEN');
      const record = decodeRecord(leaf);
      if (record.type !== 'token.issued' || record.jti !== claims.jti || record.claims_hash !== claimsHash) {
        throw unproven(`entry ${index} is not this token's issuance`);
      }
    } catch (e) {
      throw isWritError(e, 'ERR_PROVENANCE_UNPROVEN') ? e : unproven(`entry ${index} is not a record`, e);
    }
    const proof = await this.#get(`${base}/proof/inclusion?index=${index}&size=${checkpoint.size}`);
    const hashes = proof.hashes;
    try {
      if (!Array.isArray(hashes) || hashes.length > MAX_PROOF_HASHES || hashes.some((h) => typeof h !== 'string')) {
        throw unproven('malformed inclusion proof');
      }
      const path = hashes.map((h: string) => b64Decode(h, 'ERR_PROVENANCE_UNPROVEN'));
      verifyInclusion(index, checkpoint.size, leafHash(leaf), path, checkpoint.root);
    } catch (e) {
      throw isWritError(e, 'ERR_PROVENANCE_UNPROVEN') ? e : unproven(`inclusion proof of ${index} fails`, e);
    }
  }

  /** A verified checkpoint with more than `index` entries: the last one if it does, else one signed on demand. */
  async #checkpointCovering(index: number): Promise<Checkpoint> {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (this.#checkpoint !== undefined && this.#checkpoint.size > index) return this.#checkpoint;
      this.#checkpointFetch ??= this.#fetchCheckpoint(index + 1).finally(() => {
        this.#checkpointFetch = undefined;
      });
      const checkpoint = await this.#checkpointFetch;
      if (this.#checkpoint === undefined || checkpoint.size > this.#checkpoint.size) this.#checkpoint = checkpoint;
    }
    throw unproven(`no checkpoint covers entry ${index}`);
  }

  async #fetchCheckpoint(minSize: number): Promise<Checkpoint> {
    const url = `${await this.#ledger()}/checkpoint?min_size=${minSize}`;
    const res = await this.#request(url, 'text/plain');
    try {
      const { checkpoint } = openCheckpoint(res, this.#verifier, this.#origin);
      this.#checkpoints++;
      return checkpoint;
    } catch (cause) {
      // A checkpoint the pinned key did not sign proves nothing; the ledger is not to be believed.
      throw unproven('checkpoint does not verify with the pinned log key', cause);
    }
  }

  async #get(url: string): Promise<Record<string, unknown>> {
    return jsonObject(await this.#request(url, 'application/json'), 'ERR_PROVENANCE_UNPROVEN', url);
  }

  /** The body of a 200 answer; 400 or 404: the ledger cannot show it (unproven); anything else: unavailable. */
  async #request(url: string, accept: string): Promise<string> {
    const res = await issuerRequest(
      url,
      { headers: { accept }, timeout: this.#timeout, maxBytes: MAX_LEDGER_BYTES, signal: this.#signal },
      'ERR_LEDGER_UNAVAILABLE',
    );
    if (res.status === 200) return res.text;
    if (res.status === 400 || res.status === 404) throw unproven(`${url}: HTTP ${res.status}`);
    throw new WritError('ERR_LEDGER_UNAVAILABLE', { detail: `${url}: HTTP ${res.status}` });
  }
}
