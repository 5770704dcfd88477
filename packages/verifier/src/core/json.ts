/**
 * Strict JSON for untrusted input: duplicate member names are rejected (RFC 7515 §5.2, RFC 7519 §4, RFC 8259 §4
 * leave them implementation-defined, which makes one token mean two things), nesting depth is bounded, and
 * `__proto__` members are refused. A single iterative pass checks the structure, so a 10,000-deep document fails
 * fast without recursion; `JSON.parse` then builds the value.
 * @module
 */
import { type ErrorCode, WritError } from './errors.js';

/** Options for {@link parseStrictJson}. */
export interface StrictJsonOptions {
  /** Maximum nesting of objects and arrays (default 32). */
  maxDepth?: number;
  /** Code for syntax errors (default `ERR_TOKEN_MALFORMED`). Duplicates and depth keep their own codes. */
  malformed?: ErrorCode;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Parses `text` as JSON, rejecting duplicate member names (`ERR_JSON_DUPLICATE_KEY`), nesting deeper than
 * `maxDepth` (`ERR_JSON_TOO_DEEP`), `__proto__` members and any syntax error (`options.malformed`).
 */
export function parseStrictJson(text: string, options: StrictJsonOptions = {}): unknown {
  const maxDepth = options.maxDepth ?? 32;
  const malformed = options.malformed ?? 'ERR_TOKEN_MALFORMED';
  const keys: Array<Set<string> | null> = [];
  const n = text.length;
  let i = 0;
  let expectKey = false;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // Scan to the closing quote, honouring escapes.
      const start = i;
      let escaped = false;
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) {
          escaped = true;
          i += 2;
          continue;
        }
        if (d === QUOTE) break;
        i++;
      }
      if (i >= n) throw new WritError(malformed, { detail: 'unterminated string' });
      i++;
      if (expectKey) {
        const raw = text.slice(start + 1, i - 1);
        let key = raw;
        if (escaped) {
          try {
            key = JSON.parse(text.slice(start, i)) as string;
          } catch (cause) {
            throw new WritError(malformed, { cause, detail: 'invalid string escape' });
          }
        }
        if (key === '__proto__') throw new WritError(malformed, { detail: '__proto__ member' });
        const set = keys[keys.length - 1];
        if (set) {
          if (set.has(key)) throw new WritError('ERR_JSON_DUPLICATE_KEY', { detail: 'duplicate member name' });
          set.add(key);
        }
        expectKey = false;
      }
      continue;
    }
    if (c === 0x7b /* { */) {
      if (keys.length >= maxDepth) throw new WritError('ERR_JSON_TOO_DEEP', { detail: 'nesting too deep' });
      keys.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      if (keys.length >= maxDepth) throw new WritError('ERR_JSON_TOO_DEEP', { detail: 'nesting too deep' });
      keys.push(null);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      keys.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = keys.length > 0 && keys[keys.length - 1] !== null;
    }
    i++;
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new WritError(malformed, { cause, detail: 'invalid JSON' });
  }
}

/** True for a plain JSON object (not null, not an array). */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
