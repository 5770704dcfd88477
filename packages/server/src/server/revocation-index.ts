/**
 * The in-memory revocation set of one node: every revocation still in force, applied from the change feed, checked
 * on every verification (introspection, forward-auth, admin). Entries are forgotten once no token they revoke can
 * still be valid, so memory is bounded by the revocations of one maximum token lifetime.
 * @module
 */
import type { AccessTokenClaims } from '@writ/verifier';
import type { Revocation } from '../store/changes.js';

/** Revocations by kind: jti/kid → expiry; sub/client → { before, expiresAt }. */
export class RevocationIndex {
  readonly #jti = new Map<string, number>();
  readonly #kid = new Map<string, number>();
  readonly #sub = new Map<string, { before: number; expiresAt: number }>();
  readonly #client = new Map<string, { before: number; expiresAt: number }>();

  /** Applies one revocation (idempotent). */
  apply(r: Revocation): void {
    switch (r.kind) {
      case 'jti':
        this.#jti.set(r.value, Math.max(this.#jti.get(r.value) ?? 0, r.expiresAt));
        break;
      case 'kid':
        this.#kid.set(r.value, Math.max(this.#kid.get(r.value) ?? 0, r.expiresAt));
        break;
      case 'sub':
      case 'client': {
        const map = r.kind === 'sub' ? this.#sub : this.#client;
        const prev = map.get(r.value);
        map.set(r.value, {
          before: Math.max(prev?.before ?? 0, r.before ?? Number.MAX_SAFE_INTEGER),
          expiresAt: Math.max(prev?.expiresAt ?? 0, r.expiresAt),
        });
        break;
      }
    }
  }

  /** True when a token with these claims, signed with `kid`, is revoked. */
  isRevoked(claims: Pick<AccessTokenClaims, 'jti' | 'sub' | 'client_id' | 'iat'>, kid?: string): boolean {
    if (this.#jti.size && this.#jti.has(claims.jti)) return true;
    if (kid !== undefined && this.#kid.size && this.#kid.has(kid)) return true;
    if (this.#sub.size) {
      const s = this.#sub.get(claims.sub);
      if (s && claims.iat <= s.before) return true;
    }
    if (this.#client.size) {
      const c = this.#client.get(claims.client_id);
      if (c && claims.iat <= c.before) return true;
    }
    return false;
  }

  /** Forgets revocations whose tokens have all expired by `now` (Unix seconds); returns how many. */
  prune(now: number): number {
    let n = 0;
    for (const map of [this.#jti, this.#kid] as Map<string, number>[]) {
      for (const [k, exp] of map) if (exp < now && map.delete(k)) n++;
    }
    for (const map of [this.#sub, this.#client]) {
      for (const [k, v] of map) if (v.expiresAt < now && map.delete(k)) n++;
    }
    return n;
  }

  /** Number of revocations held. */
  get size(): number {
    return this.#jti.size + this.#kid.size + this.#sub.size + this.#client.size;
  }
}
