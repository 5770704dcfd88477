/**
 * Canonical JSON (RFC 8785, JCS): the one byte encoding of a JSON value, so the same record always hashes the same.
 *
 * Writ accepts a strict subset: plain objects and arrays, strings without lone surrogates (RFC 8785 §3.2.2.2
 * requires I-JSON, RFC 7493 §2.1), booleans, `null`, and numbers that are safe integers. RFC 8785 §3.2.2.3
 * serialises any IEEE 754 double, but fractions depend on shortest round-trip formatting that other languages
 * reproduce with difficulty, so ledger records never use them. Anything else (`undefined`, functions, symbols,
 * bigints, class instances, cycles) is refused with a typed error instead of being silently dropped or converted as
 * `JSON.stringify` would.
 *
 * On this subset RFC 8785 reduces to: members sorted by their UTF-16 code units (§3.2.3, JavaScript's default
 * sort), strings as ECMAScript `JSON.stringify` writes them (§3.2.2.2 is defined by it), integers in decimal, no
 * whitespace. That is short enough to write here in one pass, which matters because every ledger append goes through
 * it; the tests check it against the `canonicalize` package (the RFC 8785 reference implementation for JavaScript)
 * on random values.
 * @module
 */
import { type ErrorCode, WritError } from './errors.js';

/** Nesting bound for canonicalised values (records are shallow; this also stops cycles). */
const MAX_DEPTH = 32;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Characters that JSON escapes, and surrogates (which may be lone): strings without any are written as they are. */
const PLAIN = /["\\\u0000-\u001f\uD800-\uDFFF]/;

/** Why a value is outside the subset. */
class Refused {
  constructor(readonly why: string) {}
}

function string(s: string): string {
  if (!PLAIN.test(s)) return `"${s}"`;
  if (LONE_SURROGATE.test(s)) throw new Refused('lone surrogate');
  return JSON.stringify(s);
}

/**
 * Writes `value`. `path` is only passed when locating a failure (a second pass, so that the common case builds no
 * path): it then holds the keys down to the refused value.
 */
function write(value: unknown, depth: number, path?: Array<string | number>): string {
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return string(value);
    case 'number':
      if (!Number.isSafeInteger(value)) throw new Refused('not a safe integer');
      return String(value); // -0 writes as 0, as RFC 8785 §3.2.2.3 requires
    case 'object': {
      if (value === null) return 'null';
      if (depth >= MAX_DEPTH) throw new Refused('nested too deep');
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          path?.push(i);
          out += (i > 0 ? ',' : '') + write(value[i], depth + 1, path);
          path?.pop();
        }
        return `${out}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if ((proto !== Object.prototype && proto !== null) || Object.getOwnPropertySymbols(value).length > 0) {
        throw new Refused('not a plain object');
      }
      const keys = Object.keys(value).sort();
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        path?.push(k);
        out += `${i > 0 ? ',' : ''}${string(k)}:${write((value as Record<string, unknown>)[k], depth + 1, path)}`;
        path?.pop();
      }
      return `${out}}`;
    }
    default:
      throw new Refused(`${typeof value} is not JSON`);
  }
}

/**
 * The RFC 8785 canonical JSON text of `value`. Throws `code` (default `ERR_INVALID_ARGUMENT`) for anything outside
 * the subset described above; its `detail` names where.
 */
export function canonicalJson(value: unknown, code: ErrorCode = 'ERR_INVALID_ARGUMENT'): string {
  try {
    return write(value, 0);
  } catch (e) {
    if (!(e instanceof Refused)) throw e;
    const path: Array<string | number> = [];
    try {
      write(value, 0, path);
    } catch {
      // the same refusal, now with its path
    }
    const where = path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('');
    throw new WritError(code, { detail: `$${where}: ${e.why}` });
  }
}

/** The UTF-8 bytes of {@link canonicalJson}. */
export function canonicalBytes(value: unknown, code: ErrorCode = 'ERR_INVALID_ARGUMENT'): Buffer {
  return Buffer.from(canonicalJson(value, code), 'utf8');
}
