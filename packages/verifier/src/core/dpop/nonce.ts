/**
 * Stateless DPoP server nonces (RFC 9449 §8, §9): a nonce is a time-window number and an HMAC of it, so any node
 * holding the key checks any node's nonce without shared state. A nonce is accepted in the window it was issued in
 * and the next one, so it lives between one and two windows.
 * @module
 */
import { createHmac, type KeyObject, timingSafeEqual } from 'node:crypto';
import { checkOptionNames, clockOption, configError, intOption } from '../_options.js';
import { b64uEncode } from '../encoding.js';

/** Options of {@link DpopNonces}. */
export interface DpopNoncesOptions {
  /** HMAC-SHA256 key, e.g. `schedule.dpopNonceKey()`. */
  key: KeyObject;
  /** Window length in seconds (default 300). */
  windowSeconds?: number;
  /** Clock in milliseconds (default `Date.now`). */
  now?: () => number;
}

const TAG_BYTES = 16;
const NONCE = /^[A-Za-z0-9_-]{27}$/;

/** Issues and checks server nonces. */
export class DpopNonces {
  readonly #key: KeyObject;
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(options: DpopNoncesOptions) {
    checkOptionNames('DpopNonces', options, ['key', 'windowSeconds', 'now']);
    if (options.key?.type !== 'secret') throw configError('key', 'must be a secret KeyObject');
    this.#key = options.key;
    this.#windowMs = intOption('windowSeconds', options.windowSeconds, 300, 10, 86_400) * 1000;
    this.#now = clockOption('now', options.now);
  }

  /** A nonce for the current window (send it in the `DPoP-Nonce` header). */
  issue(): string {
    const w = windowBytes(Math.floor(this.#now() / this.#windowMs));
    return b64uEncode(Buffer.concat([w, this.#tag(w)]));
  }

  /** True for a nonce of the current or the previous window. */
  check(nonce: unknown): boolean {
    if (typeof nonce !== 'string' || !NONCE.test(nonce)) return false;
    const bytes = Buffer.from(nonce, 'base64url');
    const window = bytes.readUInt32BE(0);
    const current = Math.floor(this.#now() / this.#windowMs);
    if (window !== current && window !== current - 1) return false;
    return timingSafeEqual(bytes.subarray(4), this.#tag(bytes.subarray(0, 4)));
  }

  #tag(window: Buffer): Buffer {
    return createHmac('sha256', this.#key).update('writ/v1/dpop-nonce/').update(window).digest().subarray(0, TAG_BYTES);
  }
}

function windowBytes(window: number): Buffer {
  const w = Buffer.alloc(4);
  w.writeUInt32BE(window >>> 0);
  return w;
}
