/**
 * The ledger's record types: what Writ writes into its Merkle log. Member names are the wire names (snake_case, as
 * in JWT claims). Every record carries the format version `v`, its `type` and `time` (Unix milliseconds).
 *
 * No record ever holds a secret: a token appears as its `jti` and the hash of its claims, a subject only as a
 * pseudonym (`subject`, see the ledger's `pseudonymise`), a client secret or admin credential never.
 * @module
 */

/** The record format version this code writes and reads. */
export const RECORD_VERSION = 1;

/** Members every record has. */
interface RecordBase {
  /** Format version, {@link RECORD_VERSION}. */
  readonly v: typeof RECORD_VERSION;
  /** Unix milliseconds when the event happened. */
  readonly time: number;
}

/** What a revocation (or its cascade origin) applies to. `subject` values are pseudonyms. */
export type RevocationTarget =
  | { readonly kind: 'jti' | 'subject' | 'client' | 'family'; readonly value: string }
  | { readonly kind: 'epoch' | 'generation'; readonly value: number };

/** Who caused a change. A `subject` actor's id is a pseudonym; `system` has no id. */
export interface RecordActor {
  readonly kind: 'admin' | 'client' | 'subject' | 'system';
  readonly id?: string;
}

/** A token was issued (written before the token leaves the issuer: DESIGN.md invariant 1). */
export interface TokenIssuedRecord extends RecordBase {
  readonly type: 'token.issued';
  readonly jti: string;
  readonly token_kind: 'access' | 'refresh';
  readonly format: 'jwt' | 'opaque';
  readonly client_id: string;
  /** Pseudonym of the token's subject; absent when the token has no subject besides the client. */
  readonly subject?: string;
  readonly aud: readonly string[];
  readonly scope?: string;
  /** Issued-at and expiry, Unix seconds, as in the token. */
  readonly iat: number;
  readonly exp: number;
  /** The signing key (JWT access tokens). */
  readonly kid?: string;
  readonly epoch?: number;
  readonly generation?: number;
  /** base64url SHA-256 of the canonical claims without `provenance` (see `tokenClaimsHash`). */
  readonly claims_hash: string;
  /** The token this one was derived from (refresh, token exchange). */
  readonly parent_jti?: string;
  readonly grant_type: string;
  /** Confirmation of a sender-constrained token: a DPoP key (RFC 9449) or certificate (RFC 8705) thumbprint. */
  readonly cnf?: { readonly jkt: string } | { readonly 'x5t#S256': string };
}

/** A token was presented to a verifier. */
export interface TokenUsedRecord extends RecordBase {
  readonly type: 'token.used';
  readonly jti: string;
  readonly audience: string;
  readonly decision: 'allow' | 'deny';
  /** The Writ error code of a denial (present exactly when `decision` is `deny`). */
  readonly error?: string;
  /** base64url SHA-256 of the request context the verifier saw (never the context itself). */
  readonly context_hash?: string;
  /**
   * How many identical uses (same token, audience, decision, error and context) this record stands for, when a
   * verifier folded repeated uses within a short window into one record; absent for a single use. `time` is the
   * first of them.
   */
  readonly count?: number;
}

/** Tokens were revoked. */
export interface TokenRevokedRecord extends RecordBase {
  readonly type: 'token.revoked';
  readonly target: RevocationTarget;
  /** The revocation that started this one by cascade (a spent refresh token reused, a deleted client, ...). */
  readonly cascade_origin?: RevocationTarget;
  /** A short reason code, e.g. `client_request`, `refresh_token_reuse`, `client_deleted`. */
  readonly reason: string;
  readonly actor: RecordActor;
}

/** A signing epoch's key was published (in the JWKS before it signs). */
export interface EpochPublishedRecord extends RecordBase {
  readonly type: 'key.epoch_published';
  readonly epoch: number;
  readonly generation: number;
  readonly kid: string;
  readonly alg: string;
}

/** A root generation was retired: nothing it derived verifies any more. */
export interface GenerationRetiredRecord extends RecordBase {
  readonly type: 'key.generation_retired';
  readonly generation: number;
  readonly actor: RecordActor;
}

/** What happened to a client or an administrator account. */
export type ChangeAction = 'created' | 'updated' | 'deleted' | 'secret_rotated';

/** A client was changed. `fields` names the settings an update changed, never their values. */
export interface ClientChangedRecord extends RecordBase {
  readonly type: 'client.changed';
  readonly client_id: string;
  readonly action: ChangeAction;
  readonly fields?: readonly string[];
  readonly actor: RecordActor;
}

/** An administrator account was changed. */
export interface AdminChangedRecord extends RecordBase {
  readonly type: 'admin.changed';
  readonly admin_id: string;
  readonly action: ChangeAction;
  readonly fields?: readonly string[];
  readonly actor: RecordActor;
}

/** Any ledger record. */
export type LedgerRecord =
  | TokenIssuedRecord
  | TokenUsedRecord
  | TokenRevokedRecord
  | EpochPublishedRecord
  | GenerationRetiredRecord
  | ClientChangedRecord
  | AdminChangedRecord;

/** The record type names. */
export type RecordType = LedgerRecord['type'];
