/**
 * What a request presents, and what a refusal answers: the resource-server side of RFC 6750 (Bearer) and RFC 9449
 * (DPoP), shared by the middleware and by the issuer's forward-auth endpoint.
 *
 * - {@link readCredentials}: exactly one `Authorization` field, scheme `Bearer` or `DPoP` (case-insensitive,
 *   RFC 9110 §11.1), a token68 token (RFC 6750 §2.1); at most one `DPoP` field (RFC 9449 §4.3 check 1); no token in
 *   the query string or the body (RFC 6750 §2.2, §2.3 are not supported, and §2 forbids more than one method).
 * - {@link requestUrl}: the absolute URL of the request (for DPoP `htu` and usage contexts): a configured public
 *   origin, or the `Host` header, or, only when configured to trust them, `X-Forwarded-Proto`/`-Host`.
 * - {@link errorResponse}: status, `WWW-Authenticate` (RFC 6750 §3, RFC 9449 §7.1), `DPoP-Nonce`, `Retry-After` and
 *   the JSON error body for any failure.
 * @module
 */
import { toWritError, WritError } from '../core/errors.js';
import { isJsonObject } from '../core/json.js';
import type { VerifyContext } from '../core/jwt/verify.js';

/** A request as the gateway reads it. Node's `IncomingMessage` fits, and so do Express and Fastify requests. */
export interface GatewayRequest {
  /** The HTTP method. */
  readonly method?: string;
  /** The request target as received: origin-form (`/path?query`) or absolute-form. */
  readonly url?: string;
  /** Header fields by lower-case name, as Node gives them. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /**
   * Node's raw header list (name, value, name, value, …). When present, repeated `Authorization` or `DPoP` fields are
   * seen even where Node keeps only the first in `headers`.
   */
  readonly rawHeaders?: readonly string[];
  /** The parsed body, when a body parser ran before: a token in it (`access_token`) is refused. */
  readonly body?: unknown;
  /** The connection: a TLS socket (`encrypted`) makes the scheme `https` when no origin is configured. */
  readonly socket?: unknown;
}

/** The token and proof a request presents. */
export interface Credentials {
  /** The scheme, as the core `Verifier` names it. */
  readonly scheme: 'Bearer' | 'DPoP';
  readonly token: string;
  /** The `DPoP` header field, if one was sent. */
  readonly dpopProof: string | undefined;
}

/** How {@link requestUrl} finds the request's public origin. */
export interface RequestUrlOptions {
  /** The public origin (`https://api.example`) requests arrive at; when set, request headers never decide it. */
  origin?: string;
  /** Trust `X-Forwarded-Proto` and `X-Forwarded-Host` (only behind a proxy that sets them). Default false. */
  trustForwarded?: boolean;
}

/** How {@link errorResponse} words its challenge. */
export interface ChallengeOptions {
  /** The `realm` of the challenge (RFC 6750 §3). */
  realm?: string;
  /** The scheme the request presented its token with (default `Bearer`). */
  scheme?: 'Bearer' | 'DPoP';
  /** Algorithms accepted for DPoP proofs, sent as `algs` (RFC 9449 §7.1; default `EdDSA ES256`). */
  dpopAlgorithms?: readonly string[];
}

/** A refusal, ready to send. */
export interface ErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** RFC 6749 §5.2 / RFC 6750 §3 error body: `error` and the fixed public `error_description`. */
  readonly body: { readonly error: string; readonly error_description: string };
}

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" /
// "/" ) *"=".
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
// RFC 9110 §7.2 Host: uri-host [ ":" port ], uri-host a reg-name, IPv4 or IP-literal.
const HOST = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;
const DEFAULT_DPOP_ALGS = ['EdDSA', 'ES256'];

function invalidRequest(detail: string): WritError {
  return new WritError('ERR_INVALID_REQUEST', { detail });
}

/** `v` without leading and trailing optional whitespace (RFC 9110 §5.5: SP and HTAB). */
function trimOws(v: string): string {
  let start = 0;
  let end = v.length;
  while (start < end && (v.charCodeAt(start) === 0x20 || v.charCodeAt(start) === 0x09)) start++;
  while (end > start && (v.charCodeAt(end - 1) === 0x20 || v.charCodeAt(end - 1) === 0x09)) end--;
  return start === 0 && end === v.length ? v : v.slice(start, end);
}

/** The scheme of credentials (RFC 9110 §11.4, compared case-insensitively) when it is `Bearer` or `DPoP`. */
function schemeOf(credentials: string): 'Bearer' | 'DPoP' | undefined {
  const space = credentials.indexOf(' ');
  const name = space === -1 ? credentials : credentials.slice(0, space);
  if (name.length !== 6 && name.length !== 4) return undefined;
  const lower = name.toLowerCase();
  return lower === 'bearer' ? 'Bearer' : lower === 'dpop' ? 'DPoP' : undefined;
}

/** Every value of header field `name` (lower case), one per field line as received. */
function fieldValues(request: GatewayRequest, name: string): string[] {
  const raw = request.rawHeaders;
  if (raw !== undefined) {
    const values: string[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const field = raw[i]!;
      if (field.length === name.length && field.toLowerCase() === name) values.push(trimOws(raw[i + 1]!));
    }
    return values;
  }
  const v = request.headers[name];
  return v === undefined ? [] : typeof v === 'string' ? [v] : [...v];
}

/** The first value of a header field that may be a list (`X-Forwarded-*`): its left-most element. */
function firstListValue(request: GatewayRequest, name: string): string | undefined {
  const v = fieldValues(request, name)[0];
  return v === undefined ? undefined : v.split(',')[0]!.trim();
}

/** The scheme of the `Authorization` field, when it is one the gateway knows (for the challenge of a refusal). */
export function presentedScheme(request: GatewayRequest): 'Bearer' | 'DPoP' | undefined {
  const v = request.headers.authorization;
  const value = typeof v === 'string' ? v : v?.[0];
  return value === undefined ? undefined : schemeOf(value);
}

/**
 * The credentials of `request`. Throws `ERR_TOKEN_MISSING` (no `Authorization`, or another scheme),
 * `ERR_INVALID_REQUEST` (repeated `Authorization`, a token in the query or body), `ERR_TOKEN_TOO_LARGE` (before any
 * parsing), `ERR_TOKEN_MALFORMED` (not token68) or `ERR_DPOP_PROOF_INVALID` (repeated `DPoP`).
 */
export function readCredentials(request: GatewayRequest, maxTokenSize = 8192): Credentials {
  const url = request.url ?? '';
  const query = url.indexOf('?');
  if (
    query !== -1 &&
    url.includes('access_token', query) &&
    new URLSearchParams(url.slice(query)).has('access_token')
  ) {
    throw invalidRequest('access token in the query string');
  }
  if (isJsonObject(request.body) && Object.hasOwn(request.body, 'access_token')) {
    throw invalidRequest('access token in the body');
  }
  const fields = fieldValues(request, 'authorization');
  if (fields.length === 0) throw new WritError('ERR_TOKEN_MISSING');
  if (fields.length > 1) throw invalidRequest('more than one Authorization field');
  const field = fields[0]!;
  // The size bound comes before any pattern runs over the value (scheme, spaces and token).
  if (field.length > maxTokenSize + 16) throw new WritError('ERR_TOKEN_TOO_LARGE');
  const scheme = schemeOf(field);
  if (scheme === undefined) throw new WritError('ERR_TOKEN_MISSING', { detail: 'unsupported authorization scheme' });
  let start = scheme.length;
  while (field.charCodeAt(start) === 0x20) start++;
  const token = field.slice(start);
  if (token.length > maxTokenSize) throw new WritError('ERR_TOKEN_TOO_LARGE');
  if (!B64TOKEN.test(token)) throw new WritError('ERR_TOKEN_MALFORMED', { detail: 'credentials are not token68' });
  const proofs = fieldValues(request, 'dpop');
  if (proofs.length > 1) throw new WritError('ERR_DPOP_PROOF_INVALID', { detail: 'more than one DPoP field' });
  return { scheme, token, dpopProof: proofs[0] };
}

/**
 * The absolute URL of `request` (scheme, host, path and query). Throws `ERR_INVALID_REQUEST` for a missing,
 * repeated or malformed `Host` (or trusted `X-Forwarded-Host`), or a request target that is not a path.
 */
export function requestUrl(request: GatewayRequest, options: RequestUrlOptions = {}): string {
  let target = request.url ?? '';
  if (!target.startsWith('/')) {
    // RFC 9112 §3.2.2 absolute-form: only its path and query count here.
    let parsed: URL;
    try {
      parsed = new URL(target);
    } catch {
      throw invalidRequest('request target is not a path');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalidRequest('request target scheme');
    target = `${parsed.pathname}${parsed.search}`;
  }
  if (options.origin !== undefined) return `${options.origin}${target}`;
  const forwardedProto = options.trustForwarded
    ? firstListValue(request, 'x-forwarded-proto')?.toLowerCase()
    : undefined;
  if (forwardedProto !== undefined && forwardedProto !== 'http' && forwardedProto !== 'https') {
    throw invalidRequest('X-Forwarded-Proto is not http or https');
  }
  const encrypted = (request.socket as { encrypted?: unknown } | null | undefined)?.encrypted === true;
  const proto = forwardedProto ?? (encrypted ? 'https' : 'http');
  let host = options.trustForwarded ? firstListValue(request, 'x-forwarded-host') : undefined;
  if (host === undefined) {
    const hosts = fieldValues(request, 'host');
    if (hosts.length !== 1) throw invalidRequest('exactly one Host field is required');
    host = hosts[0]!;
  }
  if (!HOST.test(host)) throw invalidRequest('malformed host');
  return `${proto}://${host}${target}`;
}

/** The core `Verifier`'s context for `credentials` presented on a request to `url` (scopes added by the caller). */
export function verifyContext(credentials: Credentials, method: string, url: string | undefined): VerifyContext {
  return { scheme: credentials.scheme, dpopProof: credentials.dpopProof, method, url };
}

/** RFC 9110 §5.6.4 quoted-string. */
function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

function challenge(scheme: string, params: ReadonlyArray<readonly [string, string | undefined]>): string {
  const list = params.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${quote(v!)}`);
  return list.length === 0 ? scheme : `${scheme} ${list.join(', ')}`;
}

/**
 * The response for a failure (`error` is turned into a `WritError` first; anything unexpected is a 500 with no
 * detail). 401, 403 and 400 carry a `WWW-Authenticate` challenge: without error parameters when no token was
 * presented (`ERR_TOKEN_MISSING`, RFC 6750 §3.1), one `Bearer` and one `DPoP` challenge then; otherwise in the scheme
 * the token came with (DPoP for proof errors), with `error`, `error_description` and, for `insufficient_scope`, the
 * `scope` required.
 */
export function errorResponse(error: unknown, options: ChallengeOptions = {}): ErrorResponse {
  const e = toWritError(error);
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  if (e.dpopNonce !== undefined) headers['dpop-nonce'] = e.dpopNonce;
  if (e.retryAfter !== undefined) headers['retry-after'] = String(e.retryAfter);
  if (e.status === 400 || e.status === 401 || e.status === 403) {
    const realm: [string, string | undefined] = ['realm', options.realm];
    const algs: [string, string] = ['algs', (options.dpopAlgorithms ?? DEFAULT_DPOP_ALGS).join(' ')];
    if (e.code === 'ERR_TOKEN_MISSING') {
      headers['www-authenticate'] = `${challenge('Bearer', [realm])}, ${challenge('DPoP', [realm, algs])}`;
    } else {
      const params: Array<[string, string | undefined]> = [
        realm,
        ['error', e.error],
        ['error_description', e.description],
        ['scope', e.error === 'insufficient_scope' ? e.scope : undefined],
      ];
      const dpop = options.scheme === 'DPoP' || e.error === 'invalid_dpop_proof' || e.error === 'use_dpop_nonce';
      headers['www-authenticate'] = dpop ? challenge('DPoP', [...params, algs]) : challenge('Bearer', params);
    }
  }
  return { status: e.status, headers, body: e.toJSON() };
}
