/**
 * Revocation (DESIGN.md invariant 5): a revocation is expanded into what verifiers apply (jti / sub / client / kid),
 * cascaded (tokens derived by exchange, the refresh family), made durable in the change feed — effective on this
 * node at once and on every other node and verifier through the feed — and recorded in the ledger, all before the
 * caller is answered. The feed is written first: if the ledger then fails, the revocation still holds (the safe
 * side) and the caller gets an error to retry, which is idempotent.
 * @module
 */
import type { LedgerRecord, RecordActor, RevocationTarget, TokenRevokedRecord } from '@writ/verifier';
import type { Ledger } from '../ledger/ledger.js';
import type { ChangeKind, Revocation } from '../store/changes.js';
import type { TokenStore } from '../store/tokens.js';
import type { ChangeFeed } from './change-feed.js';
import type { WritConfig } from './config.js';
import { KEY_SETTINGS, type KeyRing, type KeySettings } from './keyring.js';
import type { Metrics } from './metrics.js';

/** What to revoke. */
export type RevokeTarget =
  | { kind: 'jti'; jti: string }
  | { kind: 'subject'; sub: string }
  | { kind: 'client'; clientId: string }
  | { kind: 'family'; familyId: string }
  | { kind: 'epoch'; generation: number; epoch: number }
  | { kind: 'generation'; generation: number };

/** Why, and who asked. */
export interface RevokeMeta {
  /** A short reason code, e.g. `client_request`, `admin_request`, `refresh_token_reuse`. */
  reason: string;
  actor: RecordActor;
}

/** What a revocation did. */
export interface RevokeResult {
  /** Token ids revoked (the target and its cascade; empty for subject/client/key revocations). */
  jtis: string[];
  /** Ledger indexes of the records written. */
  indexes: number[];
}

/** Revokes tokens for a node. */
export class Revoker {
  readonly #config: WritConfig;
  readonly #keys: KeyRing;
  readonly #ledger: Ledger;
  readonly #tokens: TokenStore;
  readonly #feed: ChangeFeed;
  readonly #metrics: Metrics;

  constructor(deps: {
    config: WritConfig;
    keys: KeyRing;
    ledger: Ledger;
    tokens: TokenStore;
    feed: ChangeFeed;
    metrics: Metrics;
  }) {
    this.#config = deps.config;
    this.#keys = deps.keys;
    this.#ledger = deps.ledger;
    this.#tokens = deps.tokens;
    this.#feed = deps.feed;
    this.#metrics = deps.metrics;
  }

  /** Revokes `target` and everything that cascades from it; resolves once durable and in the ledger. */
  async revoke(target: RevokeTarget, meta: RevokeMeta): Promise<RevokeResult> {
    const now = Math.floor(Date.now() / 1000);
    const horizon = now + this.#config.tokens.maxLifetime + this.#config.tokens.refreshTokenTtl;
    const revocations: Revocation[] = [];
    const records: LedgerRecord[] = [];
    const time = Date.now();
    const record = (t: RevocationTarget, origin?: RevocationTarget): TokenRevokedRecord => ({
      v: 1,
      type: 'token.revoked',
      time,
      target: t,
      reason: meta.reason,
      actor: meta.actor,
      ...(origin ? { cascade_origin: origin } : {}),
    });
    let jtis: string[] = [];
    let keySettings: KeySettings | undefined;

    switch (target.kind) {
      case 'jti':
      case 'family': {
        const origin: RevocationTarget =
          target.kind === 'jti' ? { kind: 'jti', value: target.jti } : { kind: 'family', value: target.familyId };
        records.push(record(origin));
        jtis = await this.#cascade(target);
        for (const jti of jtis) {
          const row = await this.#tokens.getByJti(jti);
          revocations.push({ kind: 'jti', value: jti, expires_at: row?.expiresAt ?? horizon });
          if (!(target.kind === 'jti' && jti === target.jti)) records.push(record({ kind: 'jti', value: jti }, origin));
        }
        await this.#tokens.setRevoked(jtis);
        break;
      }
      case 'subject':
      case 'client': {
        const value = target.kind === 'subject' ? target.sub : target.clientId;
        revocations.push({
          kind: target.kind === 'subject' ? 'sub' : 'client',
          value,
          before: now,
          expires_at: horizon,
        });
        await this.#tokens.setRevokedWhere(target.kind === 'subject' ? 'subject' : 'clientId', value);
        const recorded = target.kind === 'subject' ? await this.#ledger.pseudonymise(value) : value;
        records.push(record({ kind: target.kind, value: recorded }));
        break;
      }
      case 'epoch': {
        const { schedule } = this.#keys;
        const kid = schedule.keyAt(target.generation, target.epoch).kid;
        revocations.push({ kind: 'kid', value: kid, expires_at: horizon + 2 * schedule.epochSeconds });
        records.push(record({ kind: 'epoch', value: target.epoch }));
        // Revoking the key that signs now moves signing to the (already published) next key.
        const signing = schedule.signingKey();
        if (signing.generation === target.generation && signing.epoch <= target.epoch) {
          const s = this.#keys.settings;
          keySettings = { ...s, rotationOffset: s.rotationOffset + (target.epoch - signing.epoch) + 1 };
        }
        break;
      }
      case 'generation': {
        const { schedule } = this.#keys;
        for (const kid of schedule.windowKids(target.generation)) {
          revocations.push({ kind: 'kid', value: kid, expires_at: horizon + 2 * schedule.epochSeconds });
        }
        records.push(record({ kind: 'generation', value: target.generation }));
        const s = this.#keys.settings;
        if (!s.retiredGenerations.includes(target.generation)) {
          keySettings = { ...s, retiredGenerations: [...s.retiredGenerations, target.generation].sort() };
        }
        break;
      }
    }

    if (keySettings) await this.#keys.store.set(KEY_SETTINGS, keySettings);
    const changes: Array<{ kind: ChangeKind; data: Record<string, unknown> }> = revocations.map((r) => ({
      kind: 'revocation',
      data: { ...r },
    }));
    if (keySettings) changes.push({ kind: 'keys', data: { ...keySettings } });
    if (changes.length) await this.#feed.publish(changes);
    if (target.kind === 'generation') {
      records.push({ v: 1, type: 'key.generation_retired', time, generation: target.generation, actor: meta.actor });
    }
    const indexes = (await Promise.all(records.map((r) => this.#ledger.append(r)))).map((r) => r.index);
    this.#metrics.revoked.inc({ kind: target.kind }, Math.max(1, jtis.length));
    return { jtis, indexes };
  }

  /** The token and every token derived from it (exchange chains), plus whole refresh families they belong to. */
  async #cascade(target: { kind: 'jti'; jti: string } | { kind: 'family'; familyId: string }): Promise<string[]> {
    const out = new Set<string>();
    const seenFamilies = new Set<string>();
    const families = new Set<string>();
    const queue: string[] = [];
    if (target.kind === 'jti') queue.push(target.jti);
    else {
      seenFamilies.add(target.familyId);
      families.add(target.familyId);
    }
    for (;;) {
      for (const f of families) {
        families.delete(f);
        for (const j of await this.#tokens.family(f)) if (!out.has(j)) queue.push(j);
      }
      const jti = queue.pop();
      if (jti === undefined) break;
      if (out.has(jti)) continue;
      out.add(jti);
      const row = await this.#tokens.getByJti(jti);
      if (row?.familyId && !seenFamilies.has(row.familyId)) {
        seenFamilies.add(row.familyId);
        families.add(row.familyId);
      }
      for (const d of await this.#tokens.descendants(jti)) if (!out.has(d)) queue.push(d);
      if (out.size > 100_000) break;
    }
    return [...out];
  }
}
