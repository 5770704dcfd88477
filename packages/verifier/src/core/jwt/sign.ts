/**
 * Access-token issuance (RFC 9068 §2): build the claims (so the ledger can record them first), then sign them with
 * the current epoch key, synchronously or on the thread pool.
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { type JwsAlgorithm, signAsync, signSync } from '../_alg.js';
import { checkOptionNames, clockOption, configError, intOption, stringOption } from '../_options.js';
import { poolRandomBytes } from '../_random.js';
import { b64uEncode } from '../encoding.js';
import { WritError } from '../errors.js';
import type { KeySchedule, SigningKey } from '../keys/schedule.js';
import type { VerificationKey } from '../keys/source.js';
import type { AccessTokenClaims, ActorClaim, AuthorizationDetail, Confirmation } from './claims.js';

/** Options of {@link AccessTokenSigner}. */
export interface AccessTokenSignerOptions {
  /** The key schedule: its current key signs, its `maxTokenLifetime` caps every token. */
  keys: KeySchedule;
  /** The `iss` of every token. */
  issuer: string;
  /** Lifetime in seconds when a request names none (default: the schedule's `maxTokenLifetime`, at most 3,600). */
  defaultLifetime?: number;
  /** Clock in milliseconds (default `Date.now`). */
  now?: () => number;
}

/** What a token is for. */
export interface AccessTokenRequest {
  sub: string;
  aud: string | readonly string[];
  clientId: string;
  scope?: string | readonly string[];
  /** Requested lifetime in seconds; capped at the schedule's `maxTokenLifetime`. */
  lifetime?: number;
  /** Key confirmation for sender-constrained tokens (RFC 9449 §6.1 `jkt`, RFC 8705 §3.1 `x5t#S256`). */
  cnf?: Confirmation;
  /** RFC 9396 authorization details granted. */
  authorizationDetails?: readonly AuthorizationDetail[];
  /** RFC 8693 §4.1 actor, for delegated tokens. */
  act?: ActorClaim;
}

/** Signing choices. */
export interface SignOptions {
  /** Sign with the audience's HS256 key instead of the epoch key (the token must have exactly one audience). */
  mac?: boolean;
  /**
   * The epoch key to sign with, as returned by `KeySchedule.signingKey()` when the issuance record was written, so
   * the record names the key that really signs even across an epoch boundary. Default: the current signing key.
   */
  key?: SigningKey;
}

/** A signed token and the key it was signed with. */
export interface SignedAccessToken {
  readonly token: string;
  readonly kid: string;
  readonly alg: JwsAlgorithm;
}

interface Prepared {
  readonly kid: string;
  readonly alg: JwsAlgorithm;
  readonly secret: KeyObject;
  readonly input: string;
}

/** `jti` entropy: 128 bits (RFC 9068 §2.2 asks for a unique identifier; Writ makes it unguessable too). */
const JTI_BYTES = 16;

/** Issues access tokens. */
export class AccessTokenSigner {
  readonly #keys: KeySchedule;
  readonly #issuer: string;
  readonly #defaultLifetime: number;
  readonly #now: () => number;
  readonly #headers = new Map<string, string>();

  constructor(options: AccessTokenSignerOptions) {
    checkOptionNames('AccessTokenSigner', options, ['keys', 'issuer', 'defaultLifetime', 'now']);
    if (typeof options.keys?.signingKey !== 'function') throw configError('keys', 'must be a KeySchedule');
    this.#keys = options.keys;
    this.#issuer = stringOption('issuer', options.issuer);
    const max = this.#keys.maxTokenLifetime;
    this.#defaultLifetime = intOption('defaultLifetime', options.defaultLifetime, Math.min(max, 3600), 1, max);
    this.#now = clockOption('now', options.now);
  }

  /**
   * The claims of a new token: `iat` = `nbf` = now, `exp` = now + lifetime (never beyond the maximum), a fresh `jti`.
   * Record them in the ledger, then add `provenance` and {@link sign} them.
   */
  claims(request: AccessTokenRequest): AccessTokenClaims {
    const audiences = typeof request.aud === 'string' ? [request.aud] : request.aud;
    const fields = [request.sub, request.clientId, ...(Array.isArray(audiences) ? audiences : [])];
    if (!Array.isArray(audiences) || audiences.length === 0 || fields.some((v) => typeof v !== 'string' || v === '')) {
      throw new WritError('ERR_INVALID_ARGUMENT', { detail: 'sub, clientId and aud must be non-empty strings' });
    }
    const lifetime = Math.min(
      intOption('lifetime', request.lifetime, this.#defaultLifetime, 1, Number.MAX_SAFE_INTEGER),
      this.#keys.maxTokenLifetime,
    );
    const iat = Math.floor(this.#now() / 1000);
    const aud = typeof request.aud === 'string' ? request.aud : [...request.aud];
    const claims: AccessTokenClaims = {
      iss: this.#issuer,
      sub: request.sub,
      aud,
      exp: iat + lifetime,
      iat,
      nbf: iat,
      jti: b64uEncode(poolRandomBytes(JTI_BYTES)),
      client_id: request.clientId,
    };
    const scope = typeof request.scope === 'string' ? request.scope : request.scope?.join(' ');
    if (scope) claims.scope = scope;
    if (request.cnf) claims.cnf = { ...request.cnf };
    if (request.authorizationDetails) claims.authorization_details = structuredClone([...request.authorizationDetails]);
    if (request.act) claims.act = structuredClone(request.act);
    return claims;
  }

  /** Signs `claims` on the calling thread. */
  sign(claims: AccessTokenClaims, options: SignOptions = {}): SignedAccessToken {
    const { kid, alg, secret, input } = this.#prepare(claims, options);
    const sig = signSync(alg, secret, Buffer.from(input, 'latin1'));
    return { token: `${input}.${b64uEncode(sig)}`, kid, alg };
  }

  /** Signs `claims` on the libuv thread pool, leaving the event loop free. */
  async signAsync(claims: AccessTokenClaims, options: SignOptions = {}): Promise<SignedAccessToken> {
    const { kid, alg, secret, input } = this.#prepare(claims, options);
    const sig = await signAsync(alg, secret, Buffer.from(input, 'latin1'));
    return { token: `${input}.${b64uEncode(sig)}`, kid, alg };
  }

  /** Checks the invariants no token may break, and builds the signing input. */
  #prepare(claims: AccessTokenClaims, options: SignOptions): Prepared {
    const { iat, exp, nbf } = claims;
    if (claims.iss !== this.#issuer) throw new WritError('ERR_INVALID_ARGUMENT', { detail: 'iss is not this issuer' });
    if (!Number.isSafeInteger(iat) || !Number.isSafeInteger(exp) || !Number.isSafeInteger(nbf) || nbf > exp) {
      throw new WritError('ERR_INVALID_ARGUMENT', { detail: 'iat, nbf and exp must be integers, nbf <= exp' });
    }
    if (exp <= iat || exp - iat > this.#keys.maxTokenLifetime) {
      throw new WritError('ERR_INVALID_ARGUMENT', { detail: 'lifetime exceeds the configured maximum' });
    }
    if (typeof claims.jti !== 'string' || claims.jti.length < 22) {
      throw new WritError('ERR_INVALID_ARGUMENT', { detail: 'jti must carry at least 128 bits' });
    }
    let key: VerificationKey;
    let secret: KeyObject;
    if (options.mac) {
      if (typeof claims.aud !== 'string') {
        throw new WritError('ERR_INVALID_ARGUMENT', { detail: 'a MAC-signed token has exactly one audience' });
      }
      key = this.#keys.audienceMacKey(claims.aud);
      secret = key.key;
    } else {
      const signing = options.key ?? this.#keys.signingKey();
      if (options.key && this.#keys.resolve(options.key.kid) !== options.key) {
        throw new WritError('ERR_INVALID_ARGUMENT', { detail: 'key is not a current key of this schedule' });
      }
      key = signing;
      secret = signing.privateKey;
    }
    const input = `${this.#header(key)}.${b64uEncode(JSON.stringify(claims))}`;
    return { kid: key.kid, alg: key.alg, secret, input };
  }

  #header(key: VerificationKey): string {
    let h = this.#headers.get(key.kid);
    if (h === undefined) {
      if (this.#headers.size >= 64) this.#headers.clear();
      h = b64uEncode(JSON.stringify({ alg: key.alg, typ: 'at+jwt', kid: key.kid }));
      this.#headers.set(key.kid, h);
    }
    return h;
  }
}
