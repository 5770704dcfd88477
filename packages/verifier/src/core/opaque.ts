/**
 * Opaque tokens (refresh tokens, and access tokens for clients that must not read claims): a readable prefix,
 * 256 random bits and a CRC32 checksum, base62, the way GitHub's tokens are built, so secret scanners recognise a
 * Writ token and `writ token inspect` rejects a mistyped one offline. Only {@link lookupHash} of a token is stored.
 * @module
 */
import { createHmac, type KeyObject } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { poolRandomBytes } from './_random.js';
import { b64uEncode } from './encoding.js';
import { WritError } from './errors.js';

/** Kinds of opaque token: access (`writ_at_`) and refresh (`writ_rt_`). */
export type OpaqueTokenKind = 'at' | 'rt';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_BYTES = 32;
/** 62^43 > 2^256: 43 base62 digits hold 256 bits. */
const BODY_CHARS = 43;
/** 62^6 > 2^32: 6 base62 digits hold a CRC32. */
const CHECKSUM_CHARS = 6;
const SHAPE = /^writ_(at|rt)_([0-9A-Za-z]{43})([0-9A-Za-z]{6})$/;

function base62(value: bigint, width: number): string {
  let out = '';
  for (let i = 0; i < width; i++) {
    out = ALPHABET[Number(value % 62n)] + out;
    value /= 62n;
  }
  return out;
}

function checksum(prefixAndBody: string): string {
  return base62(BigInt(crc32(prefixAndBody)), CHECKSUM_CHARS);
}

/** A new opaque token of `kind`: `writ_<kind>_` + 43 base62 characters (256 random bits) + a 6-character CRC32. */
export function createOpaqueToken(kind: OpaqueTokenKind): string {
  if (kind !== 'at' && kind !== 'rt') throw new WritError('ERR_INVALID_ARGUMENT', { detail: 'kind must be at or rt' });
  const body = base62(BigInt(`0x${poolRandomBytes(RANDOM_BYTES).toString('hex')}`), BODY_CHARS);
  const head = `writ_${kind}_${body}`;
  return head + checksum(head);
}

/**
 * The kind of a well-formed opaque token. Throws `ERR_OPAQUE_TOKEN_INVALID` for anything else: wrong prefix,
 * length or alphabet, or a checksum that does not match (a typo), all without a lookup.
 */
export function parseOpaqueToken(token: unknown): OpaqueTokenKind {
  const m = typeof token === 'string' ? SHAPE.exec(token) : null;
  if (!m) throw new WritError('ERR_OPAQUE_TOKEN_INVALID', { detail: 'not a Writ opaque token' });
  if (checksum(m[0].slice(0, -CHECKSUM_CHARS)) !== m[3]) {
    throw new WritError('ERR_OPAQUE_TOKEN_INVALID', { detail: 'checksum mismatch' });
  }
  return m[1] as OpaqueTokenKind;
}

/** HMAC-SHA256(lookup key, token), base64url: the only form in which an opaque token is ever stored. */
export function lookupHash(lookupKey: KeyObject, token: string): string {
  return b64uEncode(createHmac('sha256', lookupKey).update(token, 'utf8').digest());
}
