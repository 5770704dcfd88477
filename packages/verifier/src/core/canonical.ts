/**
 * Canonical JSON (RFC 8785, JCS): the one byte encoding of a JSON value, so the same record always hashes the same.
 *
 * Writ accepts a strict subset before handing the value to the `canonicalize` package: plain objects and arrays,
 * strings without lone surrogates (RFC 8785 §3.2.2.2 requires I-JSON, RFC 7493 §2.1), booleans, `null`, and
 * numbers that are safe integers. RFC 8785 §3.2.2.3 serialises any IEEE 754 double, but fractions depend on
 * shortest round-trip formatting that other languages reproduce with difficulty, so ledger records never use them.
 * Anything else (`undefined`, functions, symbols, bigints, class instances, `toJSON`, cycles) is refused with a
 * typed error instead of being silently dropped or converted as `JSON.stringify` would.
 * @module
 */
import canonicalize from 'canonicalize';
import { type ErrorCode, WritError } from './errors.js';

/** Nesting bound for canonicalised values (records are shallow; this also stops cycles). */
const MAX_DEPTH = 32;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function check(value: unknown, code: ErrorCode, depth: number, path: string): void {
  switch (typeof value) {
    case 'boolean':
      return;
    case 'string':
      if (LONE_SURROGATE.test(value)) throw new WritError(code, { detail: `${path}: lone surrogate` });
      return;
    case 'number':
      if (!Number.isSafeInteger(value)) throw new WritError(code, { detail: `${path}: not a safe integer` });
      return;
    case 'object': {
      if (value === null) return;
      if (depth >= MAX_DEPTH) throw new WritError(code, { detail: `${path}: nested too deep` });
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) check(value[i], code, depth + 1, `${path}[${i}]`);
        return;
      }
      const proto = Object.getPrototypeOf(value);
      if ((proto !== Object.prototype && proto !== null) || Object.getOwnPropertySymbols(value).length > 0) {
        throw new WritError(code, { detail: `${path}: not a plain object` });
      }
      for (const [k, v] of Object.entries(value)) check(v, code, depth + 1, `${path}.${k}`);
      return;
    }
    default:
      throw new WritError(code, { detail: `${path}: ${typeof value} is not JSON` });
  }
}

/**
 * The RFC 8785 canonical JSON text of `value`. Throws `code` (default `ERR_INVALID_ARGUMENT`) for anything outside
 * the subset described above.
 */
export function canonicalJson(value: unknown, code: ErrorCode = 'ERR_INVALID_ARGUMENT'): string {
  check(value, code, 0, '$');
  return canonicalize(value) as string;
}

/** The UTF-8 bytes of {@link canonicalJson}. */
export function canonicalBytes(value: unknown, code: ErrorCode = 'ERR_INVALID_ARGUMENT'): Buffer {
  return Buffer.from(canonicalJson(value, code), 'utf8');
}
