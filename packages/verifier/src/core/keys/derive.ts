/**
 * HKDF-SHA256 key derivation (RFC 5869) with domain-separated `info` strings, and deterministic key pairs from
 * derived bytes. Every key Writ uses comes from here; none is ever stored.
 * @module
 */
import { createPrivateKey, createPublicKey, hkdfSync, type KeyObject } from 'node:crypto';
import { WritError } from '../errors.js';
import { exposeSecret, type Secret } from './secret.js';

/** Salt for every Writ HKDF extraction (RFC 5869 §3.1: a fixed, non-secret salt still strengthens extraction). */
export const HKDF_SALT = Buffer.from('writ/hkdf-salt/v1', 'utf8');

/** The parts of an `info` string. Every part is named so two purposes can never collide. */
export interface DerivationLabel {
  /** What the key is for, e.g. `token-signing`, `audience-mac`, `opaque-lookup`, `pseudonym`, `log-signing`. */
  purpose: string;
  /** Algorithm the key is used with, e.g. `EdDSA`, `ES256`, `HS256`, `HMAC-SHA256`. */
  alg: string;
  /** Signing epoch, where keys rotate. */
  epoch?: number;
  /** Root generation, where roots can be retired. */
  generation?: number;
  /** Audience, for per-audience keys. */
  audience?: string;
}

/**
 * The HKDF `info` string for a label: `writ/v1/<purpose>/<alg>[/g=<generation>][/e=<epoch>][/aud=<audience>]`.
 * Parts are percent-encoded so an audience containing `/` cannot forge another label.
 */
export function derivationInfo(label: DerivationLabel): string {
  const enc = encodeURIComponent;
  let info = `writ/v1/${enc(label.purpose)}/${enc(label.alg)}`;
  if (label.generation !== undefined) info += `/g=${label.generation}`;
  if (label.epoch !== undefined) info += `/e=${label.epoch}`;
  if (label.audience !== undefined) info += `/aud=${enc(label.audience)}`;
  return info;
}

/** HKDF-SHA256(secret, {@link HKDF_SALT}, info(label)), `length` bytes. */
export function deriveBytes(secret: Secret, label: DerivationLabel, length = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', exposeSecret(secret), HKDF_SALT, derivationInfo(label), length));
}

// PKCS#8 prefix of an Ed25519 private key (RFC 8410 §7): the 32-byte seed follows.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** An Ed25519 key pair from a 32-byte seed (RFC 8032 §5.1.5). */
export function ed25519FromSeed(seed: Uint8Array): { privateKey: KeyObject; publicKey: KeyObject } {
  if (seed.length !== 32) throw new WritError('ERR_KEY_MATERIAL_INVALID', { detail: 'Ed25519 seed must be 32 bytes' });
  const privateKey = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** Bytes of HKDF output to derive a P-256 scalar from: 64 bits more than the order, so the reduction is unbiased. */
export const P256_SEED_BYTES = 40;

// Order n of the P-256 group (SEC 2 §2.4.2, FIPS 186-5).
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
// SEC1 ECPrivateKey (RFC 5915 §3) for prime256v1: SEQUENCE { version 1, OCTET STRING (32-byte scalar) ... }
const SEC1_P256_PREFIX = Buffer.from('30310201010420', 'hex');
// ... [0] parameters { OID 1.2.840.10045.3.1.7 } (no public key: OpenSSL computes it from the scalar).
const SEC1_P256_SUFFIX = Buffer.from('a00a06082a8648ce3d030107', 'hex');

/**
 * A P-256 (ES256) key pair from at least {@link P256_SEED_BYTES} derived bytes: the scalar is
 * `d = (c mod (n - 1)) + 1`, which lies in [1, n-1] with negligible bias (FIPS 186-5 §A.2.1, "extra random bits").
 */
export function p256FromBytes(bytes: Uint8Array): { privateKey: KeyObject; publicKey: KeyObject } {
  if (bytes.length < P256_SEED_BYTES) {
    throw new WritError('ERR_KEY_MATERIAL_INVALID', { detail: `P-256 seed must be at least ${P256_SEED_BYTES} bytes` });
  }
  const c = BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
  const scalar = Buffer.from(((c % (P256_N - 1n)) + 1n).toString(16).padStart(64, '0'), 'hex');
  const privateKey = createPrivateKey({
    key: Buffer.concat([SEC1_P256_PREFIX, scalar, SEC1_P256_SUFFIX]),
    format: 'der',
    type: 'sec1',
  });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}
