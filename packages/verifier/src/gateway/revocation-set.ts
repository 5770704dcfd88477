/**
 * The revocations a verifier holds, as the issuer's feed delivers them (`docs/verifier-protocol.md`): by token
 * (`jti`), by subject or client for tokens issued up to a time (`before`, against `iat`), and by signing key
 * (`kid`). Each is kept until its `expires_at`, after which no token it revokes can be valid; memory is bounded, and
 * a set that had to refuse a revocation for lack of room says so instead of forgetting it.
 * @module
 */
import { checkOptionNames, intOption } from '../core/_options.js';
import { WritError } from '../core/errors.js';
import { isJsonObject } from '../core/json.js';
import type { AccessTokenClaims } from '../core/jwt/claims.js';

/** What a revocation names. */
export type RevocationKind = 'jti' | 'sub' | 'client' | 'kid';

/** One revocation, as the issuer sends it. */
export interface Revocation {
  /** Strictly increasing sequence number. */
  readonly seq: number;
  readonly kind: RevocationKind;
  /** The `jti`, `sub`, `client_id` or `kid` revoked. */
  readonly value: string;
  /** For `sub` and `client`: tokens with `iat <= before` are revoked (Unix seconds). */
  readonly before?: number;
  /** Unix seconds after which no token this revokes can still be valid. */
  readonly expires_at: number;
}

/** Options of {@link RevocationSet}. */
export interface RevocationSetOptions {
  /** Most revocations held at once (default 1,000,000). */
  maxEntries?: number;
  /** Seconds a revocation is kept past its `expires_at`: the verifier's clock tolerance (default 60). */
  clockTolerance?: number;
}

const KINDS: ReadonlySet<string> = new Set<RevocationKind>(['jti', 'sub', 'client', 'kid']);
const MAX_VALUE = 1024;

interface Until {
  before: number;
  expiresAt: number;
}

/**
 * Checks one revocation from the issuer (`ERR_REVOCATION_UNAVAILABLE` when it is not one: a revocation the
 * verifier cannot apply must not be skipped silently).
 */
export function parseRevocation(value: unknown): Revocation {
  const bad = (detail: string) => new WritError('ERR_REVOCATION_UNAVAILABLE', { detail: `revocation: ${detail}` });
  if (!isJsonObject(value)) throw bad('not an object');
  const { seq, kind, before, expires_at: expiresAt } = value;
  if (!Number.isSafeInteger(seq) || (seq as number) < 1) throw bad('seq must be a positive integer');
  if (typeof kind !== 'string' || !KINDS.has(kind)) throw bad(`unknown kind ${String(kind)}`);
  if (typeof value.value !== 'string' || value.value === '' || value.value.length > MAX_VALUE) throw bad('value');
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) throw bad('expires_at must be a number');
  if ((kind === 'sub' || kind === 'client') && (typeof before !== 'number' || !Number.isFinite(before))) {
    throw bad(`a ${kind} revocation needs before`);
  }
  return value as unknown as Revocation;
}

/** Revocations in force, by kind. */
export class RevocationSet {
  readonly #max: number;
  readonly #tolerance: number;
  readonly #jti = new Map<string, number>();
  readonly #kid = new Map<string, number>();
  readonly #sub = new Map<string, Until>();
  readonly #client = new Map<string, Until>();
  #overflowed = false;

  constructor(options: RevocationSetOptions = {}) {
    checkOptionNames('RevocationSet', options, ['maxEntries', 'clockTolerance']);
    this.#max = intOption('revocations.maxEntries', options.maxEntries, 1_000_000, 1, 100_000_000);
    this.#tolerance = intOption('revocations.clockTolerance', options.clockTolerance, 60, 0, 3600);
  }

  /** Number of revocations held. */
  get size(): number {
    return this.#jti.size + this.#kid.size + this.#sub.size + this.#client.size;
  }

  /** True once a revocation could not be held for lack of room: the set is incomplete from then on. */
  get overflowed(): boolean {
    return this.#overflowed;
  }

  /**
   * Applies `r` (idempotent), forgetting expired ones first when the set is full (`now` in ms). Returns false, and
   * marks the set overflowed, when there is still no room.
   */
  apply(r: Revocation, now: number): boolean {
    const map =
      r.kind === 'jti' ? this.#jti : r.kind === 'kid' ? this.#kid : r.kind === 'sub' ? this.#sub : this.#client;
    if (!map.has(r.value) && this.size >= this.#max) {
      this.sweep(now);
      if (this.size >= this.#max) {
        this.#overflowed = true;
        return false;
      }
    }
    if (r.kind === 'jti' || r.kind === 'kid') {
      const m = map as Map<string, number>;
      m.set(r.value, Math.max(m.get(r.value) ?? 0, r.expires_at));
    } else {
      const m = map as Map<string, Until>;
      const old = m.get(r.value);
      // Two revocations of one subject: the later `before` covers every token the earlier one did.
      m.set(r.value, {
        before: Math.max(old?.before ?? -Infinity, r.before!),
        expiresAt: Math.max(old?.expiresAt ?? 0, r.expires_at),
      });
    }
    return true;
  }

  /** True when a revocation held covers the token with these claims, signed by `kid`. */
  has(claims: AccessTokenClaims, kid: string): boolean {
    if (this.#jti.has(claims.jti) || this.#kid.has(kid)) return true;
    const sub = this.#sub.get(claims.sub);
    if (sub !== undefined && claims.iat <= sub.before) return true;
    const client = this.#client.get(claims.client_id);
    return client !== undefined && claims.iat <= client.before;
  }

  /** Forgets revocations whose `expires_at` is more than the clock tolerance before `now` (ms). */
  sweep(now: number): void {
    const limit = now / 1000 - this.#tolerance;
    for (const m of [this.#jti, this.#kid]) for (const [k, exp] of m) if (exp < limit) m.delete(k);
    for (const m of [this.#sub, this.#client]) for (const [k, u] of m) if (u.expiresAt < limit) m.delete(k);
  }
}
