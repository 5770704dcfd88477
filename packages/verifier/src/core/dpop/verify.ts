/**
 * DPoP proof verification (RFC 9449 §4.3), for the token endpoint (no access token) and for resource servers (with
 * the access token, whose hash the proof must carry in `ath`). The caller compares the returned `jkt` with the
 * token's `cnf.jkt` (RFC 9449 §7.1); the {@link Verifier} does it for access tokens.
 * @module
 */
import { hash, type KeyObject } from 'node:crypto';
import { isAsymmetric, isJwsAlgorithm, type JwsAlgorithm, keyFitsAlg, verifySignature } from '../_alg.js';
import { checkOptionNames, clockOption, configError, intOption } from '../_options.js';
import { type ErrorCode, WritError } from '../errors.js';
import { type DecodedJws, type DecodeJwsPolicy, decodeJws, decodePayload } from '../jwt/decode.js';
import { importPublicJwk } from '../keys/jwk.js';
import { jwkThumbprint } from '../keys/thumbprint.js';
import { normalizeHtu } from './htu.js';
import type { DpopNonces } from './nonce.js';
import { MemoryReplayCache, type ReplayCache } from './replay.js';

/** Options of {@link DpopVerifier}. */
export interface DpopVerifierOptions {
  /** Asymmetric algorithms accepted for proofs (default `EdDSA`, `ES256`). */
  algorithms?: readonly JwsAlgorithm[];
  /** How old a proof's `iat` may be, in seconds (default 300). */
  maxAge?: number;
  /** How far in the future a proof's `iat` may be, in seconds (default 60). */
  clockTolerance?: number;
  /** Maximum proof length in bytes (default 8,192). */
  maxProofSize?: number;
  /** Where used `jti`s are remembered (default: a {@link MemoryReplayCache} of this process). */
  replayCache?: ReplayCache;
  /** Server nonces; when given, every proof must carry a valid `nonce` (RFC 9449 §8). */
  nonces?: DpopNonces;
  /** Clock in milliseconds (default `Date.now`). */
  now?: () => number;
}

/** The request a proof must match. */
export interface DpopRequest {
  /** The HTTP method, as received. */
  method: string;
  /** The absolute request URL (its query and fragment are ignored). */
  url: string;
  /** The access token presented with the proof, if any: then `ath` must be its hash (RFC 9449 §4.3 check 12). */
  accessToken?: string;
}

/** A verified proof. */
export interface VerifiedDpopProof {
  /** RFC 7638 thumbprint of the proof key: the `jkt` to bind tokens to, or to match with `cnf.jkt`. */
  readonly jkt: string;
  /** The proof's `jti`. */
  readonly jti: string;
  /** The proof's `iat` (seconds). */
  readonly iat: number;
  /** The proof's public key. */
  readonly publicKey: KeyObject;
}

const OPTION_NAMES = ['algorithms', 'maxAge', 'clockTolerance', 'maxProofSize', 'replayCache', 'nonces', 'now'];
const MAX_JTI = 256;

/** `ath`: base64url SHA-256 of the ASCII access token (RFC 9449 §4.2). */
export function accessTokenHash(accessToken: string): string {
  return hash('sha256', accessToken, 'base64url');
}

function proofError(code: ErrorCode, detail: string, cause?: unknown): WritError {
  return new WritError(code, { detail, cause });
}

/** Verifies DPoP proofs against requests. Options are validated at construction. */
export class DpopVerifier {
  readonly #policy: DecodeJwsPolicy;
  readonly #maxAge: number;
  readonly #tolerance: number;
  readonly #replay: ReplayCache;
  readonly #nonces: DpopNonces | undefined;
  readonly #now: () => number;

  constructor(options: DpopVerifierOptions = {}) {
    checkOptionNames('DpopVerifier', options, OPTION_NAMES);
    const algorithms = options.algorithms ?? ['EdDSA', 'ES256'];
    if (!Array.isArray(algorithms) || algorithms.length === 0) throw configError('dpop.algorithms', 'non-empty list');
    for (const a of algorithms) {
      // RFC 9449 §4.2: an asymmetric algorithm, never `none` or a MAC.
      if (!isJwsAlgorithm(a) || !isAsymmetric(a)) throw configError('dpop.algorithms', `${String(a)} is not allowed`);
    }
    this.#policy = Object.freeze({
      maxSize: intOption('dpop.maxProofSize', options.maxProofSize, 8192, 256, 65_536),
      typ: 'dpop+jwt',
      algorithms: new Set<string>(algorithms),
      forbidden: Object.freeze(['jku', 'x5u', 'x5c']),
    });
    this.#maxAge = intOption('dpop.maxAge', options.maxAge, 300, 1, 86_400);
    this.#tolerance = intOption('dpop.clockTolerance', options.clockTolerance, 60, 0, 3600);
    const replay = options.replayCache ?? new MemoryReplayCache({ now: options.now });
    if (typeof replay?.firstUse !== 'function') throw configError('dpop.replayCache', 'must implement firstUse');
    this.#replay = replay;
    this.#nonces = options.nonces;
    this.#now = clockOption('dpop.now', options.now);
  }

  /** Verifies `proof` for `request`; every failure is a `WritError` with an `ERR_DPOP_*` code. */
  async verify(proof: unknown, request: DpopRequest): Promise<VerifiedDpopProof> {
    const expectedHtu = normalizeHtu(request.url);
    if (expectedHtu === undefined) {
      throw new WritError('ERR_INVALID_ARGUMENT', { detail: 'request url must be an absolute http(s) URL' });
    }
    if (typeof proof !== 'string' || proof === '') throw new WritError('ERR_DPOP_PROOF_MISSING');
    let decoded: DecodedJws;
    let key: KeyObject;
    try {
      decoded = decodeJws(proof, this.#policy);
      key = importPublicJwk(decoded.header.jwk, 'ERR_DPOP_PROOF_INVALID');
    } catch (cause) {
      throw proofError('ERR_DPOP_PROOF_INVALID', 'malformed proof or header', cause);
    }
    if (!keyFitsAlg(key, decoded.alg)) throw proofError('ERR_DPOP_PROOF_INVALID', 'jwk does not fit alg');
    if (!(await verifySignature(decoded.alg, key, decoded.signingInput, decoded.signature))) {
      throw proofError('ERR_DPOP_PROOF_INVALID', 'signature');
    }
    let claims: Record<string, unknown>;
    try {
      claims = decodePayload(decoded, 4);
    } catch (cause) {
      throw proofError('ERR_DPOP_PROOF_INVALID', 'malformed payload', cause);
    }
    const { jti, htm, htu, iat } = claims;
    if (
      typeof jti !== 'string' ||
      jti === '' ||
      jti.length > MAX_JTI ||
      typeof htm !== 'string' ||
      typeof htu !== 'string'
    ) {
      throw proofError('ERR_DPOP_PROOF_INVALID', 'jti, htm or htu missing');
    }
    if (typeof iat !== 'number' || !Number.isFinite(iat)) throw proofError('ERR_DPOP_PROOF_INVALID', 'iat missing');
    // §4.3 check 8: the method, exactly.
    if (htm !== request.method) throw proofError('ERR_DPOP_HTM_MISMATCH', 'htm');
    // §4.3 check 9: the URI without query and fragment, normalised (RFC 3986 §6.2.2, §6.2.3).
    if (normalizeHtu(htu) !== expectedHtu) throw proofError('ERR_DPOP_HTU_MISMATCH', 'htu');
    // §4.3 check 11: iat within the acceptance window.
    const now = this.#now() / 1000;
    if (iat < now - this.#maxAge || iat > now + this.#tolerance) throw proofError('ERR_DPOP_IAT_INVALID', 'iat');
    // §4.3 check 12: the proof names the very access token it accompanies.
    if (request.accessToken !== undefined && claims.ath !== accessTokenHash(request.accessToken)) {
      throw proofError('ERR_DPOP_ATH_MISMATCH', 'ath');
    }
    // §4.3 check 10, §8: a server-provided nonce; the error carries a fresh one for the DPoP-Nonce header.
    if (this.#nonces && !this.#nonces.check(claims.nonce)) {
      throw new WritError('ERR_DPOP_NONCE_REQUIRED', { dpopNonce: this.#nonces.issue() });
    }
    const jkt = jwkThumbprint(decoded.header.jwk as Record<string, unknown>, 'ERR_DPOP_PROOF_INVALID');
    // §11.1: each proof once. The jti is scoped to the key, and remembered until the proof is too old anyway.
    const fresh = await this.#replay.firstUse(`${jkt}.${jti}`, Math.ceil((iat + this.#maxAge + 1) * 1000));
    if (!fresh) throw proofError('ERR_DPOP_REPLAYED', 'jti seen');
    return { jkt, jti, iat, publicKey: key };
  }
}
