/**
 * The access-token {@link Verifier}: one call, strict by default (RFC 9068 §4, RFC 8725). Token-intrinsic checks
 * (size, structure, header, key, signature, claims, times) run once per token and are cached; request checks
 * (binding, revocation, scopes, authorization details) run on every call.
 * @module
 */
import { isJwsAlgorithm, type JwsAlgorithm, verifyEd25519BySigning, verifyMac, verifySignature } from '../_alg.js';
import { checkOptionNames, clockOption, configError, intOption, stringListOption, stringOption } from '../_options.js';
import { DpopVerifier, type DpopVerifierOptions, type VerifiedDpopProof } from '../dpop/verify.js';
import { isWritError, toWritError, WritError } from '../errors.js';
import type { KeySource, VerificationKey } from '../keys/source.js';
import { VerifiedTokenCache, type VerifiedTokenCacheOptions } from './cache.js';
import {
  type AccessTokenClaims,
  type AuthorizationRequirement,
  type ClaimsPolicy,
  checkAccessTokenClaims,
  checkAuthorizationDetails,
  checkScopes,
  parseScope,
} from './claims.js';
import { type DecodeJwsPolicy, decodeJws, decodePayload, KEY_POINTER_HEADERS } from './decode.js';

/** Options of {@link Verifier}, validated at construction. */
export interface VerifierOptions {
  /** The exact `iss` accepted. */
  issuer: string;
  /**
   * The audience(s) this verifier serves: a token's `aud` must contain one of them. `'*'` accepts any audience; it
   * is meant for the issuer's own introspection, whose caller checks `aud` itself — never use it in a resource server.
   */
  audience: string | readonly string[];
  /** Where keys come from: a `KeySchedule`, a `StaticKeySource`, or the gateway's JWKS cache. */
  keys: KeySource;
  /** Allowed algorithms (default `EdDSA`, `ES256`). Each key verifies only its own `alg`. */
  algorithms?: readonly JwsAlgorithm[];
  /** Allowed clock skew in seconds (default 60). */
  clockTolerance?: number;
  /** Refuse tokens issued longer ago than this many seconds. */
  maxTokenAge?: number;
  /** Refuse tokens whose `exp - iat` exceeds this many seconds. */
  maxTokenLifetime?: number;
  /** Refuse tokens longer than this many bytes, before parsing (default 8,192). */
  maxTokenSize?: number;
  /** Scopes every token must grant. */
  requiredScopes?: string | readonly string[];
  /** Refuse tokens without a `provenance` claim. */
  requireProvenance?: boolean;
  /**
   * Revocation hook, consulted on every verification (cached or not) with the claims and the key that signed them.
   * Return true for a revoked token. A throw (other than a `WritError`) fails closed with `ERR_REVOCATION_UNAVAILABLE`.
   */
  isRevoked?: (claims: AccessTokenClaims, key: TokenKeyInfo) => boolean | Promise<boolean>;
  /** The verified-token cache (default on, 10,000 entries / 16 MiB); `false` turns it off. */
  cache?: false | VerifiedTokenCacheOptions;
  /** DPoP proof verification for DPoP-bound tokens: options, or a shared {@link DpopVerifier}. */
  dpop?: DpopVerifierOptions | DpopVerifier;
  /** Clock in milliseconds (default `Date.now`). */
  now?: () => number;
}

/** What the request presents besides the token. */
export interface VerifyContext {
  /** The `Authorization` scheme the token came with (default `DPoP` when a proof is given, else `Bearer`). */
  scheme?: 'Bearer' | 'DPoP';
  /** The `DPoP` header value. */
  dpopProof?: string;
  /** The HTTP method (needed for DPoP). */
  method?: string;
  /** The absolute request URL (needed for DPoP). */
  url?: string;
  /** Scopes this request needs (a list, or a space-delimited string), besides the verifier's `requiredScopes`. */
  scopes?: string | readonly string[];
  /** Checked against `authorization_details` when given (RFC 9396). */
  authorization?: AuthorizationRequirement;
  /** SHA-256 thumbprint (base64url) of the TLS client certificate, for mTLS-bound tokens (RFC 8705 §3). */
  certificateThumbprint?: string;
  /**
   * Skip the sender-constraint check: for the issuer itself, when a token arrives as a parameter (introspection,
   * token exchange) rather than as a credential. The caller checks `cnf` itself. Never set it in a resource server.
   */
  skipBinding?: boolean;
}

/** The key a token was verified with. */
export interface TokenKeyInfo {
  readonly kid: string;
  readonly alg: JwsAlgorithm;
  readonly generation: number | undefined;
  readonly epoch: number | undefined;
}

/** How the token is bound to its presenter. */
export type TokenBinding =
  | { readonly type: 'bearer' }
  | { readonly type: 'dpop'; readonly jkt: string; readonly proof: VerifiedDpopProof }
  | { readonly type: 'mtls'; readonly x5tS256: string };

/** A verified access token. `claims` is deeply frozen and may be shared between calls. */
export interface VerifiedAccessToken {
  readonly claims: Readonly<AccessTokenClaims>;
  readonly key: TokenKeyInfo;
  readonly binding: TokenBinding;
  /** True when the token-intrinsic checks came from the cache. */
  readonly cached: boolean;
}

interface TokenState {
  readonly claims: AccessTokenClaims;
  readonly key: TokenKeyInfo;
  readonly scopes: readonly string[];
  readonly revision: number | undefined;
}

const OPTION_NAMES = [
  'issuer',
  'audience',
  'keys',
  'algorithms',
  'clockTolerance',
  'maxTokenAge',
  'maxTokenLifetime',
  'maxTokenSize',
  'requiredScopes',
  'requireProvenance',
  'isRevoked',
  'cache',
  'dpop',
  'now',
];
const BEARER: TokenBinding = Object.freeze({ type: 'bearer' });
const DAY = 86_400;

function freezeDeep<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) freezeDeep(v);
  }
  return value;
}

function isThenable<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown }).then === 'function';
}

/** Verifies access tokens for one issuer and audience. */
export class Verifier {
  readonly #keys: KeySource;
  readonly #decode: DecodeJwsPolicy;
  readonly #claims: ClaimsPolicy;
  readonly #requiredScopes: readonly string[];
  readonly #isRevoked: VerifierOptions['isRevoked'];
  readonly #cache: VerifiedTokenCache<TokenState> | undefined;
  /** First verifications under way, by cache key (bounded by the requests in flight). */
  readonly #inFlight = new Map<string, Promise<TokenState>>();
  readonly #dpop: DpopVerifier;
  readonly #keyInfos = new WeakMap<VerificationKey, TokenKeyInfo>();
  readonly #now: () => number;

  constructor(options: VerifierOptions) {
    checkOptionNames('Verifier', options, OPTION_NAMES);
    const keys = options.keys;
    if (typeof keys?.resolve !== 'function') throw configError('keys', 'must be a KeySource');
    this.#keys = keys;
    const algorithms = options.algorithms ?? ['EdDSA', 'ES256'];
    if (!Array.isArray(algorithms) || algorithms.length === 0) throw configError('algorithms', 'non-empty list');
    for (const a of algorithms) if (!isJwsAlgorithm(a)) throw configError('algorithms', `${String(a)} is not allowed`);
    this.#decode = Object.freeze({
      maxSize: intOption('maxTokenSize', options.maxTokenSize, 8192, 256, 1024 * 1024),
      typ: 'at+jwt',
      algorithms: new Set<string>(algorithms),
      forbidden: KEY_POINTER_HEADERS,
    });
    const optionalSeconds = (name: string, v: unknown) =>
      v === undefined ? undefined : intOption(name, v, undefined, 1, 366 * DAY);
    if (options.requireProvenance !== undefined && typeof options.requireProvenance !== 'boolean') {
      throw configError('requireProvenance', 'must be a boolean');
    }
    this.#claims = Object.freeze({
      issuer: stringOption('issuer', options.issuer),
      audiences: options.audience === '*' ? null : new Set(stringListOption('audience', options.audience)),
      clockTolerance: intOption('clockTolerance', options.clockTolerance, 60, 0, 3600),
      maxTokenAge: optionalSeconds('maxTokenAge', options.maxTokenAge),
      maxTokenLifetime: optionalSeconds('maxTokenLifetime', options.maxTokenLifetime),
      requireProvenance: options.requireProvenance ?? false,
    });
    this.#requiredScopes =
      options.requiredScopes === undefined ? [] : stringListOption('requiredScopes', options.requiredScopes, true);
    if (options.isRevoked !== undefined && typeof options.isRevoked !== 'function') {
      throw configError('isRevoked', 'must be a function');
    }
    this.#isRevoked = options.isRevoked;
    this.#cache = options.cache === false ? undefined : new VerifiedTokenCache(options.cache ?? {});
    this.#now = clockOption('now', options.now);
    const dpop = options.dpop;
    this.#dpop = dpop instanceof DpopVerifier ? dpop : new DpopVerifier({ now: this.#now, ...dpop });
  }

  /**
   * Verifies `token` for a request. Resolves with the claims, the key and the binding; rejects with a
   * {@link WritError} whose `code` says what failed (never another exception).
   */
  async verify(token: string, context: VerifyContext = {}): Promise<VerifiedAccessToken> {
    if (typeof token !== 'string' || token === '') throw new WritError('ERR_TOKEN_MISSING');
    // Size before anything else, the cache hash included.
    if (token.length > this.#decode.maxSize) throw new WritError('ERR_TOKEN_TOO_LARGE');
    const now = this.#now();
    let state: TokenState | undefined;
    let cacheKey = '';
    if (this.#cache) {
      cacheKey = VerifiedTokenCache.key(token);
      state = this.#cache.get(cacheKey, now);
      if (state !== undefined && state.revision !== this.#keys.revision) {
        this.#cache.delete(cacheKey);
        state = undefined;
      }
    }
    const cached = state !== undefined;
    if (state === undefined) {
      state = await (this.#cache ? this.#verifyOnce(this.#cache, token, cacheKey, now) : this.#verifyToken(token, now));
    }
    const bound = this.#checkBinding(token, state.claims, context);
    const binding = isThenable(bound) ? await bound : bound;
    if (this.#isRevoked) await this.#checkRevocation(state.claims, state.key);
    checkScopes(state.scopes, this.#requiredScopes);
    if (context.scopes !== undefined) {
      checkScopes(state.scopes, typeof context.scopes === 'string' ? context.scopes.split(' ') : context.scopes);
    }
    if (context.authorization) checkAuthorizationDetails(state.claims.authorization_details, context.authorization);
    return { claims: state.claims, key: state.key, binding, cached };
  }

  /** Drops every cached verification (e.g. after the key set changed in a way its `revision` does not show). */
  clearCache(): void {
    this.#cache?.clear();
  }

  /** When a cached verification must be redone: at `exp` (or the maximum age), skew included, in ms. */
  #expiry(claims: AccessTokenClaims): number {
    const p = this.#claims;
    const end = p.maxTokenAge === undefined ? claims.exp : Math.min(claims.exp, claims.iat + p.maxTokenAge);
    return (end + p.clockTolerance) * 1000;
  }

  /**
   * Verifies a token not in the cache and caches the result. Requests that bring the same token while its first
   * verification is on the thread pool share it: a new token used by many connections at once costs one signature
   * check, not one per connection.
   */
  #verifyOnce(
    cache: VerifiedTokenCache<TokenState>,
    token: string,
    cacheKey: string,
    now: number,
  ): Promise<TokenState> {
    let pending = this.#inFlight.get(cacheKey);
    if (pending === undefined) {
      pending = this.#verifyToken(token, now)
        .then((state) => {
          cache.set(cacheKey, state, this.#expiry(state.claims), token.length * 2);
          return state;
        })
        .finally(() => this.#inFlight.delete(cacheKey));
      this.#inFlight.set(cacheKey, pending);
    }
    return pending;
  }

  async #verifyToken(token: string, now: number): Promise<TokenState> {
    const decoded = decodeJws(token, this.#decode);
    const kid = decoded.header.kid;
    if (typeof kid !== 'string' || kid === '') throw new WritError('ERR_TOKEN_MALFORMED', { claim: 'kid' });
    const revision = this.#keys.revision;
    const resolved = this.#keys.resolve(kid);
    const key: VerificationKey = isThenable(resolved) ? await resolved : resolved;
    // RFC 8725 §3.1: the key decides the algorithm; a header naming another one is refused, not tried.
    if (key.alg !== decoded.alg) throw new WritError('ERR_JOSE_ALG_NOT_ALLOWED', { claim: 'alg' });
    // The signature check runs on the thread pool while this thread checks the claims; a claims error counts only
    // once the signature holds, so an unsigned token never learns more than ERR_SIGNATURE_INVALID.
    const pending =
      key.alg === 'HS256'
        ? verifyMac(key.key, decoded.signingInput, decoded.signature)
        : key.alg === 'EdDSA' && key.privateKey
          ? verifyEd25519BySigning(key.privateKey, decoded.signingInput, decoded.signature)
          : verifySignature(key.alg, key.key, decoded.signingInput, decoded.signature);
    let checked: TokenState | WritError;
    try {
      const claims = freezeDeep(checkAccessTokenClaims(decodePayload(decoded), this.#claims, now / 1000));
      checked = { claims, key: this.#keyInfo(key), scopes: parseScope(claims.scope), revision };
    } catch (e) {
      checked = toWritError(e);
    }
    if (!(typeof pending === 'boolean' ? pending : await pending)) throw new WritError('ERR_SIGNATURE_INVALID');
    if (checked instanceof WritError) throw checked;
    return checked;
  }

  /** The (shared, frozen) description of a key, so cached tokens do not each hold a copy. */
  #keyInfo(key: VerificationKey): TokenKeyInfo {
    let info = this.#keyInfos.get(key);
    if (info === undefined) {
      info = Object.freeze({ kid: key.kid, alg: key.alg, generation: key.generation, epoch: key.epoch });
      this.#keyInfos.set(key, info);
    }
    return info;
  }

  /** RFC 9449 §7.1 and RFC 8705 §3: a sender-constrained token only counts with its proof of possession. */
  #checkBinding(
    token: string,
    claims: AccessTokenClaims,
    context: VerifyContext,
  ): TokenBinding | Promise<TokenBinding> {
    if (context.skipBinding === true) return BEARER;
    const scheme = context.scheme ?? (context.dpopProof === undefined ? 'Bearer' : 'DPoP');
    const jkt = claims.cnf?.jkt;
    const x5t = claims.cnf?.['x5t#S256'];
    let binding = BEARER;
    if (x5t !== undefined) {
      if (context.certificateThumbprint === undefined) throw new WritError('ERR_TOKEN_BINDING_MISSING');
      if (context.certificateThumbprint !== x5t) throw new WritError('ERR_TOKEN_BINDING_MISMATCH');
      binding = { type: 'mtls', x5tS256: x5t };
    }
    if (jkt === undefined) {
      // A DPoP scheme with an unbound token would let a stolen bearer token look sender-constrained.
      if (scheme === 'DPoP') throw new WritError('ERR_TOKEN_BINDING_MISMATCH', { detail: 'token is not DPoP-bound' });
      return binding;
    }
    if (scheme !== 'DPoP') throw new WritError('ERR_TOKEN_BINDING_MISSING', { detail: 'DPoP-bound token as Bearer' });
    if (context.dpopProof === undefined) throw new WritError('ERR_DPOP_PROOF_MISSING');
    if (context.method === undefined || context.url === undefined) {
      throw new WritError('ERR_INVALID_ARGUMENT', { detail: 'DPoP needs the request method and url' });
    }
    const request = { method: context.method, url: context.url, accessToken: token };
    return this.#dpop.verify(context.dpopProof, request).then((proof): TokenBinding => {
      if (proof.jkt !== jkt) throw new WritError('ERR_TOKEN_BINDING_MISMATCH');
      return { type: 'dpop', jkt, proof };
    });
  }

  async #checkRevocation(claims: AccessTokenClaims, key: TokenKeyInfo): Promise<void> {
    let revoked: boolean;
    try {
      const r = this.#isRevoked!(claims, key);
      revoked = typeof r === 'boolean' ? r : await r;
    } catch (cause) {
      if (isWritError(cause)) throw cause;
      throw new WritError('ERR_REVOCATION_UNAVAILABLE', { cause });
    }
    // Anything but a plain `false` counts as revoked: the hook fails closed.
    if (revoked !== false) throw new WritError('ERR_TOKEN_REVOKED');
  }
}
