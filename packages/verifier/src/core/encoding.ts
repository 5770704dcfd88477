/**
 * Strict encodings shared by every part that parses untrusted bytes.
 * @module
 */
import { type ErrorCode, WritError } from './errors.js';

const B64URL = /^[A-Za-z0-9_-]*$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Decodes unpadded base64url (RFC 7515 §2, RFC 4648 §5) strictly: only the URL-safe alphabet, no padding, no
 * whitespace, no impossible length, and the unused trailing bits must be zero, so every byte string has exactly one
 * accepted encoding (no malleable tokens).
 */
export function b64uDecode(input: string, code: ErrorCode = 'ERR_TOKEN_MALFORMED'): Buffer {
  const rem = input.length % 4;
  if (rem === 1 || !B64URL.test(input)) throw new WritError(code, { detail: 'invalid base64url' });
  if (rem !== 0) {
    const last = ALPHABET.indexOf(input[input.length - 1]!);
    // 2 trailing chars carry 12 bits for 1 byte (4 unused); 3 chars carry 18 bits for 2 bytes (2 unused).
    if ((rem === 2 && (last & 0x0f) !== 0) || (rem === 3 && (last & 0x03) !== 0)) {
      throw new WritError(code, { detail: 'non-canonical base64url' });
    }
  }
  return Buffer.from(input, 'base64url');
}

/** Encodes bytes (or a UTF-8 string) as unpadded base64url. */
export function b64uEncode(input: Uint8Array | string): string {
  return (typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input)).toString('base64url');
}

const B64STD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes padded standard base64 (RFC 4648 §4) strictly, as signed notes and checkpoints use it. */
export function b64Decode(input: string, code: ErrorCode = 'ERR_INVALID_ARGUMENT'): Buffer {
  if (!B64STD.test(input)) throw new WritError(code, { detail: 'invalid base64' });
  const out = Buffer.from(input, 'base64');
  if (out.toString('base64') !== input) throw new WritError(code, { detail: 'non-canonical base64' });
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8, rejecting invalid sequences instead of replacing them. */
export function utf8Decode(bytes: Uint8Array, code: ErrorCode = 'ERR_TOKEN_MALFORMED'): string {
  try {
    return utf8.decode(bytes);
  } catch (cause) {
    throw new WritError(code, { cause, detail: 'invalid UTF-8' });
  }
}
