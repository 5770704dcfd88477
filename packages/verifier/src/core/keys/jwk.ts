/**
 * JSON Web Keys (RFC 7517): exporting a public key, and importing an untrusted public JWK strictly (a JWK that
 * carries private members is refused, so a client can never make a server hold its private key).
 * @module
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { isJwsAlgorithm, type JwsAlgorithm, keyFitsAlg } from '../_alg.js';
import type { ErrorCode } from '../errors.js';
import { WritError } from '../errors.js';
import { isJsonObject } from '../json.js';
import type { VerificationKey } from './source.js';

/** A public JSON Web Key as Writ publishes and accepts it. */
export interface PublicJwk {
  kty: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
  kid?: string;
  alg?: string;
  use?: string;
  [member: string]: unknown;
}

// RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2: members that make a JWK private (or symmetric).
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const KEY_TYPES = new Set(['OKP', 'EC', 'RSA']);

/** The public JWK of a key pair's public (or private) half: key members only, no `kid`/`alg`. */
export function publicJwk(key: KeyObject): PublicJwk {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'jwk' }) as PublicJwk;
}

/**
 * Imports an untrusted public JWK. Anything but an OKP/EC/RSA public key fails with `code`: private members,
 * symmetric keys, unknown key types and invalid points alike.
 */
export function importPublicJwk(jwk: unknown, code: ErrorCode): KeyObject {
  if (!isJsonObject(jwk)) throw new WritError(code, { detail: 'jwk is not an object' });
  if (typeof jwk.kty !== 'string' || !KEY_TYPES.has(jwk.kty)) {
    throw new WritError(code, { detail: 'jwk kty is not a public key type' });
  }
  for (const m of PRIVATE_MEMBERS) {
    if (m in jwk) throw new WritError(code, { detail: 'jwk carries private key members' });
  }
  try {
    return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch (cause) {
    throw new WritError(code, { cause, detail: 'jwk is not a valid public key' });
  }
}

const INFERRED_ALG: Readonly<Record<string, JwsAlgorithm>> = { 'OKP/Ed25519': 'EdDSA', 'EC/P-256': 'ES256' };

/**
 * The signature-verification key of one member of a JWK Set (RFC 7517 §5): `kid` required, `use` absent or `sig`,
 * `alg` given (or inferred for OKP Ed25519 and EC P-256 keys) and never a MAC, a public key only, of the type the
 * `alg` needs (RFC 8725 §3.1). Anything else fails with `code`, `detail` prefixed with `label`.
 */
export function jwkVerificationKey(jwk: unknown, code: ErrorCode, label: string): VerificationKey {
  const fail = (detail: string) => new WritError(code, { detail: `${label}: ${detail}` });
  if (!isJsonObject(jwk)) throw fail('not an object');
  if (typeof jwk.kid !== 'string' || jwk.kid === '') throw fail('kid is required');
  if (jwk.use !== undefined && jwk.use !== 'sig') throw fail('use must be "sig"');
  const alg = jwk.alg ?? INFERRED_ALG[`${String(jwk.kty)}/${String(jwk.crv)}`];
  if (!isJwsAlgorithm(alg) || alg === 'HS256') throw fail('alg is missing or not a signature algorithm');
  const key = importPublicJwk(jwk, code);
  if (!keyFitsAlg(key, alg)) throw fail(`key type does not fit ${alg}`);
  return { kid: jwk.kid, alg, key };
}
