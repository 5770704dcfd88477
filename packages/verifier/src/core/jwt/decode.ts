/**
 * Strict compact JWS parsing (RFC 7515 §7.1) for access tokens and DPoP proofs. The size limit comes before any
 * parsing; base64url must be canonical; JSON must have no duplicate members; `alg` must be on the caller's
 * allow-list (so `none` never is); unknown `crit` extensions are refused (RFC 7515 §4.1.11); header parameters that
 * would point at keys elsewhere are refused, never honoured (RFC 8725 §3.10). The payload is parsed only after the
 * signature verified, with {@link decodePayload}.
 * @module
 */
import type { JwsAlgorithm } from '../_alg.js';
import { b64uDecode, utf8Decode } from '../encoding.js';
import { WritError } from '../errors.js';
import { isJsonObject, parseStrictJson } from '../json.js';

/** A compact JWS split and checked, its payload still encoded. */
export interface DecodedJws {
  /** The protected header. */
  readonly header: Readonly<Record<string, unknown>>;
  /** The header's `alg`, already on the allow-list. */
  readonly alg: JwsAlgorithm;
  /** ASCII bytes of `header.payload`, the JWS signing input (RFC 7515 §5.2). */
  readonly signingInput: Buffer;
  /** The decoded signature. */
  readonly signature: Buffer;
  /** The base64url payload segment, decoded by {@link decodePayload} once the signature holds. */
  readonly payloadSegment: string;
}

/** What {@link decodeJws} enforces. Build it once (at construction), not per call. */
export interface DecodeJwsPolicy {
  /** Maximum length of the compact serialisation, checked first. */
  readonly maxSize: number;
  /** Accepted `typ` values, lower case without `application/` (RFC 7515 §4.1.9). */
  readonly typ: string;
  /** Algorithms allowed. */
  readonly algorithms: ReadonlySet<string>;
  /** Header parameters refused outright. */
  readonly forbidden: readonly string[];
}

/** Header parameters that name keys outside the verifier's key source: never honoured (RFC 8725 §3.10, §3.11). */
export const KEY_POINTER_HEADERS: readonly string[] = Object.freeze(['jku', 'x5u', 'jwk', 'x5c']);

const HEADER_DEPTH = 4;

/** Parses and checks a compact JWS's structure and header against `policy`. */
export function decodeJws(token: string, policy: DecodeJwsPolicy): DecodedJws {
  if (typeof token !== 'string') throw new WritError('ERR_TOKEN_MALFORMED', { detail: 'token is not a string' });
  if (token.length > policy.maxSize) throw new WritError('ERR_TOKEN_TOO_LARGE');
  const dot1 = token.indexOf('.');
  const dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
  if (dot2 < 0 || token.indexOf('.', dot2 + 1) >= 0) {
    throw new WritError('ERR_TOKEN_MALFORMED', { detail: 'not three segments' });
  }
  const header = parseHeader(token.slice(0, dot1));
  const alg = header.alg;
  if (typeof alg !== 'string') throw new WritError('ERR_TOKEN_MALFORMED', { claim: 'alg', detail: 'alg missing' });
  if (!policy.algorithms.has(alg)) throw new WritError('ERR_JOSE_ALG_NOT_ALLOWED', { claim: 'alg', detail: alg });
  if (!typMatches(header.typ, policy.typ)) throw new WritError('ERR_JOSE_TYP_INVALID', { claim: 'typ' });
  for (const name of policy.forbidden) {
    if (name in header) throw new WritError('ERR_JOSE_HEADER_FORBIDDEN', { claim: name });
  }
  // RFC 7515 §4.1.11: Writ understands no extension, so any `crit` makes the JWS unacceptable.
  if ('crit' in header) throw new WritError('ERR_JOSE_CRIT_UNSUPPORTED', { claim: 'crit' });
  return {
    header,
    alg: alg as JwsAlgorithm,
    signingInput: Buffer.from(token.slice(0, dot2), 'latin1'),
    signature: b64uDecode(token.slice(dot2 + 1)),
    payloadSegment: token.slice(dot1 + 1, dot2),
  };
}

// Tokens of one issuer share a handful of headers (one per key): parsing each once saves work on the hot path.
// Only successfully parsed headers are kept, frozen, and the map is emptied when it reaches its bound.
const HEADER_CACHE_MAX = 256;
const headerCache = new Map<string, Readonly<Record<string, unknown>>>();

function parseHeader(segment: string): Readonly<Record<string, unknown>> {
  let header = headerCache.get(segment);
  if (header === undefined) {
    const parsed = parseStrictJson(utf8Decode(b64uDecode(segment)), { maxDepth: HEADER_DEPTH });
    if (!isJsonObject(parsed)) throw new WritError('ERR_TOKEN_MALFORMED', { detail: 'header is not an object' });
    header = Object.freeze(parsed);
    if (segment.length <= 1024) {
      if (headerCache.size >= HEADER_CACHE_MAX) headerCache.clear();
      headerCache.set(segment, header);
    }
  }
  return header;
}

/** The payload of a JWS whose signature verified: a strict JSON object. */
export function decodePayload(decoded: DecodedJws, maxDepth = 32): Record<string, unknown> {
  const payload = parseStrictJson(utf8Decode(b64uDecode(decoded.payloadSegment)), { maxDepth });
  if (!isJsonObject(payload)) throw new WritError('ERR_TOKEN_MALFORMED', { detail: 'payload is not an object' });
  return payload;
}

function typMatches(typ: unknown, expected: string): boolean {
  if (typeof typ !== 'string') return false;
  const t = typ.toLowerCase();
  return t === expected || t === `application/${expected}`;
}
