/**
 * Writ's error catalogue: one base class, one list of stable codes.
 *
 * Every failure Writ reports carries a stable `code` (assert on it, never on the message), the OAuth error name it
 * maps to (RFC 6749 §5.2, RFC 6750 §3.1, RFC 7009, RFC 8693, RFC 8707, RFC 9396, RFC 9449 §7.1) and the HTTP status.
 * The message is a fixed public description: it never says *why* a signature or MAC failed. Private detail for
 * logs goes in `detail`, which is never sent to a client.
 *
 * `docs/errors.md` documents each code; a test checks that this table, the exports and the docs agree.
 * @module
 */

/** OAuth / Bearer / DPoP error names that Writ emits. */
export type OAuthErrorName =
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_token_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'invalid_authorization_details'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'access_denied'
  | 'temporarily_unavailable'
  | 'server_error';

interface ErrorSpec {
  readonly error: OAuthErrorName;
  readonly status: number;
  readonly description: string;
}

function spec(error: OAuthErrorName, status: number, description: string): ErrorSpec {
  return Object.freeze({ error, status, description });
}

/**
 * Every error code Writ can emit. Adding a code means adding a row here and a row in `docs/errors.md`.
 * Codes are never renamed or reused once released.
 */
export const ERROR_CODES = Object.freeze({
  // --- Arguments and configuration (programmer or operator errors, never caused by a client) ---
  ERR_INVALID_ARGUMENT: spec('server_error', 500, 'Invalid argument'),
  ERR_CONFIG_INVALID: spec('server_error', 500, 'Invalid configuration'),
  ERR_KEY_MATERIAL_INVALID: spec('server_error', 500, 'Invalid key material'),

  // --- Token structure (RFC 6750 invalid_token) ---
  ERR_TOKEN_MISSING: spec('invalid_request', 401, 'No access token was presented'),
  ERR_TOKEN_TOO_LARGE: spec('invalid_token', 401, 'The access token is too large'),
  ERR_TOKEN_MALFORMED: spec('invalid_token', 401, 'The access token is malformed'),
  ERR_JSON_DUPLICATE_KEY: spec('invalid_token', 401, 'The access token is malformed'),
  ERR_JSON_TOO_DEEP: spec('invalid_token', 401, 'The access token is malformed'),
  ERR_JOSE_TYP_INVALID: spec('invalid_token', 401, 'The access token has the wrong type'),
  ERR_JOSE_ALG_NOT_ALLOWED: spec('invalid_token', 401, 'The access token algorithm is not allowed'),
  ERR_JOSE_HEADER_FORBIDDEN: spec('invalid_token', 401, 'The access token header is not acceptable'),
  ERR_JOSE_CRIT_UNSUPPORTED: spec('invalid_token', 401, 'The access token header is not acceptable'),
  ERR_KEY_NOT_FOUND: spec('invalid_token', 401, 'The access token was signed with an unknown key'),
  ERR_KEY_RETIRED: spec('invalid_token', 401, 'The access token was signed with a retired key'),
  ERR_SIGNATURE_INVALID: spec('invalid_token', 401, 'The access token signature is invalid'),
  ERR_OPAQUE_TOKEN_INVALID: spec('invalid_token', 401, 'The token is not a valid Writ token'),

  // --- Claims (RFC 6750 invalid_token) ---
  ERR_JWT_CLAIM_INVALID: spec('invalid_token', 401, 'The access token claims are invalid'),
  ERR_JWT_EXPIRED: spec('invalid_token', 401, 'The access token expired'),
  ERR_JWT_NOT_YET_VALID: spec('invalid_token', 401, 'The access token is not yet valid'),
  ERR_JWT_ISSUED_IN_FUTURE: spec('invalid_token', 401, 'The access token was issued in the future'),
  ERR_JWT_TOO_OLD: spec('invalid_token', 401, 'The access token is too old'),
  ERR_JWT_LIFETIME_EXCEEDED: spec('invalid_token', 401, 'The access token lifetime exceeds the maximum'),
  ERR_JWT_ISSUER_MISMATCH: spec('invalid_token', 401, 'The access token issuer is not accepted'),
  ERR_JWT_AUDIENCE_MISMATCH: spec('invalid_token', 401, 'The access token is not intended for this audience'),
  ERR_TOKEN_REVOKED: spec('invalid_token', 401, 'The access token was revoked'),
  ERR_REVOCATION_UNAVAILABLE: spec('temporarily_unavailable', 503, 'Revocation status is unavailable'),
  ERR_PROVENANCE_MISSING: spec('invalid_token', 401, 'The access token carries no provenance'),
  ERR_PROVENANCE_UNPROVEN: spec('invalid_token', 401, 'The access token was not issued through the ledger'),

  // --- Authorisation (RFC 6750 insufficient_scope, 403) ---
  ERR_INSUFFICIENT_SCOPE: spec('insufficient_scope', 403, 'The access token lacks a required scope'),
  ERR_AUTHORIZATION_DETAILS_MISMATCH: spec(
    'insufficient_scope',
    403,
    'The access token authorization details do not permit this request',
  ),

  // --- Sender-constrained tokens (RFC 9449, RFC 8705) ---
  ERR_TOKEN_BINDING_MISSING: spec('invalid_token', 401, 'The access token is sender-constrained'),
  ERR_TOKEN_BINDING_MISMATCH: spec('invalid_token', 401, 'The access token is bound to another key'),
  ERR_DPOP_PROOF_MISSING: spec('invalid_dpop_proof', 401, 'A DPoP proof is required'),
  ERR_DPOP_PROOF_INVALID: spec('invalid_dpop_proof', 401, 'The DPoP proof is invalid'),
  ERR_DPOP_HTM_MISMATCH: spec('invalid_dpop_proof', 401, 'The DPoP proof is for another method'),
  ERR_DPOP_HTU_MISMATCH: spec('invalid_dpop_proof', 401, 'The DPoP proof is for another URI'),
  ERR_DPOP_ATH_MISMATCH: spec('invalid_dpop_proof', 401, 'The DPoP proof is for another access token'),
  ERR_DPOP_IAT_INVALID: spec('invalid_dpop_proof', 401, 'The DPoP proof is outside its validity window'),
  ERR_DPOP_REPLAYED: spec('invalid_dpop_proof', 401, 'The DPoP proof was already used'),
  ERR_DPOP_NONCE_REQUIRED: spec('use_dpop_nonce', 401, 'A DPoP nonce is required'),

  // --- Request shape (RFC 6749 / RFC 6750 invalid_request) ---
  ERR_INVALID_REQUEST: spec('invalid_request', 400, 'The request is invalid'),
  ERR_BODY_TOO_LARGE: spec('invalid_request', 413, 'The request body is too large'),
  ERR_UNSUPPORTED_MEDIA_TYPE: spec('invalid_request', 415, 'The request content type is not supported'),
  ERR_NOT_FOUND: spec('invalid_request', 404, 'Not found'),
  ERR_METHOD_NOT_ALLOWED: spec('invalid_request', 405, 'Method not allowed'),

  // --- Token endpoint (RFC 6749 §5.2, RFC 8693, RFC 8707, RFC 9396) ---
  ERR_CLIENT_AUTH_FAILED: spec('invalid_client', 401, 'Client authentication failed'),
  ERR_GRANT_INVALID: spec('invalid_grant', 400, 'The provided grant is invalid, expired or revoked'),
  ERR_REFRESH_TOKEN_REUSED: spec('invalid_grant', 400, 'The provided grant is invalid, expired or revoked'),
  ERR_UNAUTHORIZED_CLIENT: spec('unauthorized_client', 400, 'The client is not allowed to use this grant type'),
  ERR_UNSUPPORTED_GRANT_TYPE: spec('unsupported_grant_type', 400, 'The grant type is not supported'),
  ERR_UNSUPPORTED_TOKEN_TYPE: spec('unsupported_token_type', 400, 'The token type is not supported'),
  ERR_SCOPE_INVALID: spec('invalid_scope', 400, 'The requested scope is invalid or exceeds what is allowed'),
  ERR_TARGET_INVALID: spec('invalid_target', 400, 'The requested resource is invalid or not allowed'),
  ERR_AUTHORIZATION_DETAILS_INVALID: spec(
    'invalid_authorization_details',
    400,
    'The requested authorization details are invalid or not allowed',
  ),
  ERR_ACCESS_DENIED: spec('access_denied', 403, 'Access denied'),

  // --- Overload and availability ---
  ERR_RATE_LIMITED: spec('temporarily_unavailable', 429, 'Too many requests'),
  ERR_LEDGER_PUSHBACK: spec('temporarily_unavailable', 503, 'The ledger is busy; retry later'),
  ERR_LEDGER_UNAVAILABLE: spec('temporarily_unavailable', 503, 'The ledger is unavailable'),
  ERR_SHUTTING_DOWN: spec('temporarily_unavailable', 503, 'The service is shutting down'),
  ERR_ISSUER_UNAVAILABLE: spec('temporarily_unavailable', 503, 'The token issuer is unavailable'),

  // --- Ledger, proofs and checkpoints ---
  ERR_PROOF_INVALID: spec('invalid_request', 400, 'The Merkle proof is invalid'),
  ERR_NOTE_INVALID: spec('invalid_request', 400, 'The signed note is invalid'),
  ERR_CHECKPOINT_INVALID: spec('invalid_request', 400, 'The checkpoint is invalid'),
  ERR_LEDGER_RANGE_INVALID: spec('invalid_request', 400, 'The requested ledger range is invalid'),
  ERR_LEDGER_CORRUPT: spec('server_error', 500, 'The ledger failed verification'),
  ERR_RECORD_INVALID: spec('invalid_request', 400, 'The ledger record is invalid'),

  // --- Anything unexpected ---
  ERR_INTERNAL: spec('server_error', 500, 'Internal error'),
} as const);

/** A stable Writ error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Optional context attached to a {@link WritError}. None of it is ever sent to a client. */
export interface WritErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** Private detail for logs (never put a token, secret or key here). */
  detail?: string;
  /** The claim or header parameter that failed, for claim errors. */
  claim?: string;
  /** Seconds after which the client may retry (pushback, rate limits). */
  retryAfter?: number;
  /** A fresh DPoP nonce the client must use (RFC 9449 §8, §9). */
  dpopNonce?: string;
  /** Scopes that were required, for `insufficient_scope` challenges (RFC 6750 §3). */
  scope?: string;
}

/**
 * The one error class of Writ. `code` is stable; `error` and `status` follow from it.
 *
 * @example
 * ```ts
 * try { await verifier.verify(token) } catch (e) { if (e instanceof WritError && e.code === 'ERR_JWT_EXPIRED') … }
 * ```
 */
export class WritError extends Error {
  /** Stable code identifying the failure. */
  readonly code: ErrorCode;
  /** The OAuth error name for the wire (`error=` / `"error":`). */
  readonly error: OAuthErrorName;
  /** The HTTP status to answer with. */
  readonly status: number;
  /** Private detail for logs; never sent to a client. */
  readonly detail: string | undefined;
  /** The claim or header parameter that failed, if any. */
  readonly claim: string | undefined;
  /** Seconds after which a retry may succeed, if any. */
  readonly retryAfter: number | undefined;
  /** A DPoP nonce to send back in the `DPoP-Nonce` header, if any. */
  readonly dpopNonce: string | undefined;
  /** Required scope for an `insufficient_scope` challenge, if any. */
  readonly scope: string | undefined;

  constructor(code: ErrorCode, options: WritErrorOptions = {}) {
    const s = ERROR_CODES[code];
    super(s.description, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WritError';
    this.code = code;
    this.error = s.error;
    this.status = s.status;
    this.detail = options.detail;
    this.claim = options.claim;
    this.retryAfter = options.retryAfter;
    this.dpopNonce = options.dpopNonce;
    this.scope = options.scope;
  }

  /** The fixed public description (`error_description`). */
  get description(): string {
    return this.message;
  }

  /** The RFC 6749 §5.2 error body. */
  toJSON(): { error: OAuthErrorName; error_description: string } {
    return { error: this.error, error_description: this.message };
  }
}

/** True when `e` is a {@link WritError}, optionally with the given code. */
export function isWritError(e: unknown, code?: ErrorCode): e is WritError {
  return e instanceof WritError && (code === undefined || e.code === code);
}

/**
 * Wraps anything thrown into a {@link WritError}: Writ errors pass through, anything else becomes `ERR_INTERNAL`
 * (its text stays in `detail` for logs, never on the wire).
 */
export function toWritError(e: unknown): WritError {
  if (e instanceof WritError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  return new WritError('ERR_INTERNAL', { cause: e, detail });
}
