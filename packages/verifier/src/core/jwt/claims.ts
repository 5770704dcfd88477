/**
 * Access-token claims (RFC 9068 §2.2) and their checks: registered claims and times (RFC 7519 §4.1), scopes
 * (RFC 6750 §3.1), rich authorization requests (RFC 9396 §2), confirmation (RFC 7800, RFC 9449 §6, RFC 8705 §3),
 * delegation (RFC 8693 §4.1) and Writ's `provenance` claim.
 * @module
 */
import { WritError } from '../errors.js';
import { isJsonObject } from '../json.js';

/** Key confirmation of a sender-constrained token (RFC 7800 §3.1). */
export interface Confirmation {
  /** RFC 7638 thumbprint of the DPoP key (RFC 9449 §6.1). */
  jkt?: string;
  /** SHA-256 thumbprint of the client certificate (RFC 8705 §3.1). */
  'x5t#S256'?: string;
}

/** One RFC 9396 authorization detail. Absent `locations`/`actions` put no limit on that dimension. */
export interface AuthorizationDetail {
  type: string;
  locations?: string[];
  actions?: string[];
  datatypes?: string[];
  identifier?: string;
  privileges?: string[];
  [field: string]: unknown;
}

/** The acting party of a delegated token (RFC 8693 §4.1), possibly itself acting for another. */
export interface ActorClaim {
  sub: string;
  iss?: string;
  act?: ActorClaim;
  [claim: string]: unknown;
}

/** Where a token's issuance record sits in the ledger. */
export interface Provenance {
  /** The ledger's origin line. */
  log: string;
  /** Index of the issuance record. */
  index: number;
}

/** The claims of a Writ access token (RFC 9068 §2.2 plus the optional members Writ uses). */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  client_id: string;
  scope?: string;
  cnf?: Confirmation;
  authorization_details?: AuthorizationDetail[];
  act?: ActorClaim;
  provenance?: Provenance;
  [claim: string]: unknown;
}

/** The claim checks a verifier applies, fixed at construction. */
export interface ClaimsPolicy {
  readonly issuer: string;
  /** Accepted audiences; null accepts any (issuer-side introspection only). */
  readonly audiences: ReadonlySet<string> | null;
  /** Allowed clock skew in seconds. */
  readonly clockTolerance: number;
  /** Maximum age (now - iat) in seconds. */
  readonly maxTokenAge: number | undefined;
  /** Maximum lifetime (exp - iat) in seconds. */
  readonly maxTokenLifetime: number | undefined;
  /** Refuse tokens without `provenance`. */
  readonly requireProvenance: boolean;
}

function invalid(claim: string, detail = 'invalid'): WritError {
  return new WritError('ERR_JWT_CLAIM_INVALID', { claim, detail });
}

function str(payload: Record<string, unknown>, claim: string, required: boolean): void {
  const v = payload[claim];
  if (v === undefined ? required : typeof v !== 'string' || v === '') throw invalid(claim, 'missing or not a string');
}

function numericDate(payload: Record<string, unknown>, claim: string): number {
  const v = payload[claim];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw invalid(claim, 'missing or not a NumericDate');
  return v;
}

function stringArray(v: unknown): boolean {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

function checkShape(p: Record<string, unknown>): void {
  for (const c of ['iss', 'sub', 'jti', 'client_id']) str(p, c, true);
  str(p, 'scope', false);
  const aud = p.aud;
  if (typeof aud !== 'string' && !(stringArray(aud) && (aud as string[]).length > 0)) throw invalid('aud');
  const cnf = p.cnf;
  if (cnf !== undefined) {
    if (!isJsonObject(cnf)) throw invalid('cnf');
    const jkt = cnf.jkt;
    const x5t = cnf['x5t#S256'];
    if ((jkt !== undefined && typeof jkt !== 'string') || (x5t !== undefined && typeof x5t !== 'string')) {
      throw invalid('cnf');
    }
    // A confirmation method Writ cannot enforce must not be silently ignored.
    if (jkt === undefined && x5t === undefined) throw invalid('cnf', 'no supported confirmation method');
  }
  const details = p.authorization_details;
  if (details !== undefined) {
    if (!Array.isArray(details)) throw invalid('authorization_details');
    for (const d of details) {
      if (!isJsonObject(d) || typeof d.type !== 'string') throw invalid('authorization_details');
      if (
        (d.locations !== undefined && !stringArray(d.locations)) ||
        (d.actions !== undefined && !stringArray(d.actions))
      ) {
        throw invalid('authorization_details');
      }
    }
  }
  if (p.act !== undefined && !(isJsonObject(p.act) && typeof p.act.sub === 'string')) throw invalid('act');
  const prov = p.provenance;
  if (prov !== undefined) {
    if (
      !isJsonObject(prov) ||
      typeof prov.log !== 'string' ||
      !Number.isSafeInteger(prov.index) ||
      (prov.index as number) < 0
    ) {
      throw invalid('provenance');
    }
  }
}

/**
 * Checks a verified payload against `policy` at `now` (seconds): types of every claim Writ reads, `exp`, `nbf` and
 * `iat` (all required) with bounded skew, maximum age and lifetime, exact `iss`, and an `aud` that contains an
 * expected audience (RFC 9068 §4).
 */
export function checkAccessTokenClaims(
  payload: Record<string, unknown>,
  policy: ClaimsPolicy,
  now: number,
): AccessTokenClaims {
  const exp = numericDate(payload, 'exp');
  const nbf = numericDate(payload, 'nbf');
  const iat = numericDate(payload, 'iat');
  checkShape(payload);
  const tol = policy.clockTolerance;
  if (now - tol >= exp) throw new WritError('ERR_JWT_EXPIRED', { claim: 'exp' });
  if (now + tol < nbf) throw new WritError('ERR_JWT_NOT_YET_VALID', { claim: 'nbf' });
  if (now + tol < iat) throw new WritError('ERR_JWT_ISSUED_IN_FUTURE', { claim: 'iat' });
  if (policy.maxTokenAge !== undefined && now - tol - iat > policy.maxTokenAge) {
    throw new WritError('ERR_JWT_TOO_OLD', { claim: 'iat' });
  }
  if (policy.maxTokenLifetime !== undefined && exp - iat > policy.maxTokenLifetime) {
    throw new WritError('ERR_JWT_LIFETIME_EXCEEDED', { claim: 'exp' });
  }
  if (payload.iss !== policy.issuer) throw new WritError('ERR_JWT_ISSUER_MISMATCH', { claim: 'iss' });
  if (policy.audiences && !audienceMatches(payload.aud as string | string[], policy.audiences)) {
    throw new WritError('ERR_JWT_AUDIENCE_MISMATCH', { claim: 'aud' });
  }
  if (policy.requireProvenance && payload.provenance === undefined) throw new WritError('ERR_PROVENANCE_MISSING');
  return payload as AccessTokenClaims;
}

function audienceMatches(aud: string | string[], expected: ReadonlySet<string>): boolean {
  if (typeof aud === 'string') return expected.has(aud);
  for (const a of aud) if (expected.has(a)) return true;
  return false;
}

/** The scopes of a `scope` claim (RFC 6749 §3.3: space-delimited). */
export function parseScope(scope: string | undefined): readonly string[] {
  return scope ? scope.split(' ').filter((s) => s !== '') : [];
}

/** Throws `ERR_INSUFFICIENT_SCOPE` (carrying the required scope for the challenge) unless `granted` has all `required`. */
export function checkScopes(granted: readonly string[], required: readonly string[]): void {
  for (const s of required) {
    if (!granted.includes(s)) throw new WritError('ERR_INSUFFICIENT_SCOPE', { scope: required.join(' ') });
  }
}

/** What a request does, matched against a token's `authorization_details` (RFC 9396 §2.2 common fields). */
export interface AuthorizationRequirement {
  /** The detail `type` that must grant the request. */
  type?: string;
  /** The request URL (or path, in the form the issuer writes `locations`). */
  url?: string;
  /** The action (`actions`); the HTTP method when no action is given. */
  action?: string;
  method?: string;
}

function locationMatches(location: string, url: string): boolean {
  if (url === location) return true;
  const base = location.endsWith('/') ? location : `${location}/`;
  return url.startsWith(base);
}

/**
 * Throws `ERR_AUTHORIZATION_DETAILS_MISMATCH` unless one detail grants the request: same `type` (when given), a
 * location equal to the URL or a path prefix of it at a segment boundary, and the action among `actions`.
 */
export function checkAuthorizationDetails(
  details: readonly AuthorizationDetail[] | undefined,
  required: AuthorizationRequirement,
): void {
  const action = required.action ?? required.method;
  const ok = details?.some(
    (d) =>
      (required.type === undefined || d.type === required.type) &&
      (required.url === undefined ||
        d.locations === undefined ||
        d.locations.some((l) => locationMatches(l, required.url!))) &&
      (action === undefined || d.actions === undefined || d.actions.includes(action)),
  );
  if (!ok) throw new WritError('ERR_AUTHORIZATION_DETAILS_MISMATCH', { claim: 'authorization_details' });
}
