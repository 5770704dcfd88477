/**
 * Internal: the JWS algorithms Writ knows (RFC 7518 §3, RFC 8037 §3.1), which key each one needs, and signing and
 * verification over `node:crypto`. Asymmetric verification runs on the libuv thread pool (the callback form of
 * `crypto.verify`) so it never blocks the event loop.
 * @module
 */
import {
  constants,
  createHmac,
  type KeyObject,
  type SignKeyObjectInput,
  sign,
  timingSafeEqual,
  type VerifyKeyObjectInput,
  verify,
} from 'node:crypto';

/** A JWS algorithm Writ can verify. `none` is not one of them, by construction. */
export type JwsAlgorithm =
  | 'EdDSA'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'HS256';

interface AlgSpec {
  /** Digest for `crypto.sign/verify` (null for EdDSA, where the curve fixes it). */
  readonly hash: string | null;
  /** `asymmetricKeyType` of the key (`secret` for HMAC). */
  readonly keyType: 'ed25519' | 'ec' | 'rsa' | 'secret';
  /** Named curve for EC keys (`asymmetricKeyDetails.namedCurve`). */
  readonly curve?: string;
  /** Exact signature length where fixed (EdDSA, ECDSA in IEEE P1363 form as JOSE uses it, RFC 7518 §3.4). */
  readonly sigLength?: number;
  /** RSASSA-PSS salt length, equal to the digest length (RFC 7518 §3.5). */
  readonly pssSalt?: number;
}

const ALGS: Readonly<Record<JwsAlgorithm, AlgSpec>> = Object.freeze({
  EdDSA: { hash: null, keyType: 'ed25519', sigLength: 64 },
  ES256: { hash: 'sha256', keyType: 'ec', curve: 'prime256v1', sigLength: 64 },
  ES384: { hash: 'sha384', keyType: 'ec', curve: 'secp384r1', sigLength: 96 },
  ES512: { hash: 'sha512', keyType: 'ec', curve: 'secp521r1', sigLength: 132 },
  RS256: { hash: 'sha256', keyType: 'rsa' },
  RS384: { hash: 'sha384', keyType: 'rsa' },
  RS512: { hash: 'sha512', keyType: 'rsa' },
  PS256: { hash: 'sha256', keyType: 'rsa', pssSalt: 32 },
  PS384: { hash: 'sha384', keyType: 'rsa', pssSalt: 48 },
  PS512: { hash: 'sha512', keyType: 'rsa', pssSalt: 64 },
  HS256: { hash: 'sha256', keyType: 'secret', sigLength: 32 },
});

/** True for a name in the table (a header `alg` from a token is checked with this before anything else). */
export function isJwsAlgorithm(alg: unknown): alg is JwsAlgorithm {
  return typeof alg === 'string' && Object.hasOwn(ALGS, alg);
}

/** True for an asymmetric algorithm (DPoP proofs must use one, RFC 9449 §4.2). */
export function isAsymmetric(alg: JwsAlgorithm): boolean {
  return ALGS[alg].keyType !== 'secret';
}

/**
 * True when `key` is the kind of key `alg` needs: the algorithm is bound to the key type, so an HS256 header can
 * never be checked with an Ed25519 public key's bytes, and an ES256 header never with a P-384 key.
 */
export function keyFitsAlg(key: KeyObject, alg: JwsAlgorithm): boolean {
  const spec = ALGS[alg];
  if (spec.keyType === 'secret') return key.type === 'secret' && (key.symmetricKeySize ?? 0) >= 32;
  if (key.type === 'secret' || key.asymmetricKeyType !== spec.keyType) return false;
  if (spec.curve !== undefined) return key.asymmetricKeyDetails?.namedCurve === spec.curve;
  if (spec.keyType === 'rsa') return (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048;
  return true;
}

function keyInput<K extends KeyObject>(spec: AlgSpec, key: K): K | VerifyKeyObjectInput | SignKeyObjectInput {
  if (spec.keyType === 'ec') return { key, dsaEncoding: 'ieee-p1363' };
  if (spec.pssSalt !== undefined) return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.pssSalt };
  return key;
}

/** HMAC-SHA256 over `data`, compared in constant time with `sig` (RFC 7518 §3.2). */
export function verifyMac(key: KeyObject, data: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== 32) return false;
  return timingSafeEqual(createHmac('sha256', key).update(data).digest(), sig);
}

/**
 * Verifies `sig` over `data` on the thread pool. Resolves `false` for a wrong signature or an impossible length,
 * never rejects for a bad signature (the caller reports one generic error, never why).
 */
export function verifySignature(
  alg: JwsAlgorithm,
  key: KeyObject,
  data: Uint8Array,
  sig: Uint8Array,
): Promise<boolean> {
  const spec = ALGS[alg];
  if (spec.keyType === 'secret') return Promise.resolve(verifyMac(key, data, sig));
  if (spec.sigLength !== undefined && sig.length !== spec.sigLength) return Promise.resolve(false);
  return new Promise((resolve) => {
    verify(spec.hash, data, keyInput(spec, key), sig, (err, ok) => resolve(err === null && ok));
  });
}

/**
 * Checks an Ed25519 signature by the holder of the private key: signs `data` again on the thread pool and compares
 * in constant time. Ed25519 signing is deterministic (RFC 8032 §5.1.6), so this accepts exactly the signature that
 * key makes; it refuses every other one, including valid signatures of other keys and malleated forms.
 */
export function verifyEd25519BySigning(privateKey: KeyObject, data: Uint8Array, sig: Uint8Array): Promise<boolean> {
  if (sig.length !== 64) return Promise.resolve(false);
  return new Promise((resolve) => {
    sign(null, data, privateKey, (err, ours) => resolve(err === null && timingSafeEqual(ours, sig)));
  });
}

/** Signs `data` on the calling thread. */
export function signSync(alg: JwsAlgorithm, key: KeyObject, data: Uint8Array): Buffer {
  const spec = ALGS[alg];
  if (spec.keyType === 'secret') return createHmac('sha256', key).update(data).digest();
  return sign(spec.hash, data, keyInput(spec, key));
}

/** Signs `data` on the thread pool. */
export function signAsync(alg: JwsAlgorithm, key: KeyObject, data: Uint8Array): Promise<Buffer> {
  const spec = ALGS[alg];
  if (spec.keyType === 'secret') return Promise.resolve(signSync(alg, key, data));
  return new Promise((resolve, reject) => {
    sign(spec.hash, data, keyInput(spec, key), (err, sig) => (err ? reject(err) : resolve(sig)));
  });
}
