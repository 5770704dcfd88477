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
