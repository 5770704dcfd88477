/**
 * Client secrets: generated with >= 256 random bits, stored only as a slow scrypt hash (RFC 7914), verified in the
 * thread pool and compared in constant time. A bounded cache of *successful* verifications keeps a hot client from
 * paying scrypt on every request without ever holding the plaintext: its key is an HMAC, under a per-process random
 * key, of the client id, the presented secret and the stored hash (so rotating the secret invalidates it).
 * Concurrent verifications of the same credentials share one scrypt run, so a client opening many connections at
 * once costs one slow hash, not one per connection.
 * @module
 */
import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const N_LOG2 = 15;
const R = 8;
const P = 1;
const KEY_LEN = 32;
const MAXMEM = 64 * 1024 * 1024;

function scryptAsync(secret: string, salt: Buffer, nLog2: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEY_LEN, { N: 2 ** nLog2, r, p, maxmem: MAXMEM }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** A new random client secret (`writ_cs_` + 256 random bits, base64url). */
export function generateClientSecret(): string {
  return `writ_cs_${randomBytes(32).toString('base64url')}`;
}

/** Hashes a secret for storage: `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (base64url parts). */
export async function hashClientSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, N_LOG2, R, P);
  return `scrypt$${N_LOG2}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

const HASH_FORMAT = /^scrypt\$(\d{1,2})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{43})$/;

/** True when `secret` matches `stored`. Malformed hashes never match. */
export async function verifyClientSecret(secret: string, stored: string): Promise<boolean> {
  const m = HASH_FORMAT.exec(stored);
  if (!m) return false;
  const [nLog2, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (nLog2 < 10 || nLog2 > 20 || r < 1 || r > 32 || p < 1 || p > 16) return false;
  const expected = Buffer.from(m[5]!, 'base64url');
  const actual = await scryptAsync(secret, Buffer.from(m[4]!, 'base64url'), nLog2, r, p);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Options for {@link SecretVerifier}. */
export interface SecretVerifierOptions {
  /** Entries kept (default 10,000). */
  maxEntries?: number;
  /** How long a successful verification is remembered, ms (default 10 minutes). */
  ttlMs?: number;
  now?: () => number;
  /** The slow check (default {@link verifyClientSecret}); tests count its runs. */
  check?: (secret: string, stored: string) => Promise<boolean>;
}

/** Verifies client secrets against their stored hashes, remembering recent successes (never the plaintext). */
export class SecretVerifier {
  readonly #key = randomBytes(32);
  readonly #seen = new Map<string, number>();
  /** Verifications running now, by the same key as `#seen`: concurrent requests share one scrypt run. */
  readonly #running = new Map<string, Promise<boolean>>();
  readonly #max: number;
  readonly #ttl: number;
  readonly #now: () => number;
  readonly #check: (secret: string, stored: string) => Promise<boolean>;

  constructor(options: SecretVerifierOptions = {}) {
    this.#check = options.check ?? verifyClientSecret;
    this.#max = options.maxEntries ?? 10_000;
    this.#ttl = options.ttlMs ?? 10 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** True when `secret` is the client's secret. */
  async verify(clientId: string, secret: string, stored: string): Promise<boolean> {
    const id = createHmac('sha256', this.#key).update(`${clientId}\0${stored}\0`).update(secret).digest('base64url');
    const until = this.#seen.get(id);
    const now = this.#now();
    if (until !== undefined && until > now) return true;
    let running = this.#running.get(id);
    if (!running) {
      running = this.#verify(id, secret, stored);
      this.#running.set(id, running);
    }
    return running;
  }

  async #verify(id: string, secret: string, stored: string): Promise<boolean> {
    try {
      if (!(await this.#check(secret, stored))) return false;
      this.#seen.delete(id);
      if (this.#seen.size >= this.#max) this.#seen.delete(this.#seen.keys().next().value!);
      this.#seen.set(id, this.#now() + this.#ttl);
      return true;
    } finally {
      this.#running.delete(id);
    }
  }

  /** Number of remembered verifications (for tests and metrics). */
  get size(): number {
    return this.#seen.size;
  }
}
