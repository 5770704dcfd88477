/**
 * The issuer's keys: root secrets by generation (files `root-<g>.key` in the data folder, or `WRIT_ROOT_SECRET` for
 * one generation), plus the node-wide key settings kept in the database (manual rotations, retired generations).
 * A `KeySchedule` is immutable, so a settings change builds a new one; every node rebuilds when the change feed
 * says keys changed.
 * @module
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  AccessTokenSigner,
  createSecretFile,
  KeySchedule,
  type KeySource,
  loadSecret,
  type RootKey,
  WritError,
} from '@writ/verifier';
import type { Ledger } from '../ledger/ledger.js';
import type { SettingsStore } from '../store/changes.js';
import type { ChangeFeed } from './change-feed.js';
import type { WritConfig } from './config.js';

/** Key settings shared by every node through the database. */
export interface KeySettings {
  /** Manual rotations so far (`writ keys rotate`). */
  rotationOffset: number;
  /** Retired root generations (`writ keys retire-root`). */
  retiredGenerations: number[];
}

export const KEY_SETTINGS = 'keys';

const ROOT_FILE = /^root-(\d{1,6})\.key$/;

/** The file holding root generation `g`. */
export function rootFile(data: string, generation: number): string {
  return join(data, `root-${generation}.key`);
}

/** Loads every root generation available: `WRIT_ROOT_SECRET` (generation `WRIT_ROOT_GENERATION`, default 1) and files. */
export function loadRoots(data: string, env: NodeJS.ProcessEnv): RootKey[] {
  const roots = new Map<number, RootKey>();
  let names: string[] = [];
  try {
    names = readdirSync(data);
  } catch {
    // No data folder: only the environment can provide a root.
  }
  for (const name of names) {
    const m = ROOT_FILE.exec(name);
    if (m) roots.set(Number(m[1]), { generation: Number(m[1]), secret: loadSecret({ file: join(data, name) }) });
  }
  if (env.WRIT_ROOT_SECRET) {
    const generation = Number(env.WRIT_ROOT_GENERATION ?? '1');
    if (!Number.isSafeInteger(generation) || generation < 1) {
      throw new WritError('ERR_CONFIG_INVALID', { detail: 'WRIT_ROOT_GENERATION must be a positive integer' });
    }
    roots.set(generation, {
      generation,
      secret: loadSecret({ env: 'WRIT_ROOT_SECRET', environment: env }),
    });
  }
  if (roots.size === 0) {
    throw new WritError('ERR_KEY_MATERIAL_INVALID', {
      detail: `no root secret: expected ${rootFile(data, 1)} or WRIT_ROOT_SECRET (run \`writ init\`)`,
    });
  }
  return [...roots.values()].sort((a, b) => a.generation - b.generation);
}

/** The current key schedule and signer, rebuilt when the key settings change. */
export class KeyRing {
  #schedule!: KeySchedule;
  #signer!: AccessTokenSigner;
  #settings: KeySettings = { rotationOffset: 0, retiredGenerations: [] };
  #rebuilds = 0;
  #failure: string | undefined;
  /** A key source that always resolves against the current schedule, for long-lived verifiers. */
  readonly source: KeySource;

  private constructor(
    readonly config: WritConfig,
    readonly env: NodeJS.ProcessEnv,
    readonly store: SettingsStore,
  ) {
    const ring = this;
    this.source = {
      resolve: (kid) => ring.#schedule.resolve(kid),
      // Moves when the epoch window moves or the schedule is rebuilt, so cached verifications are redone.
      get revision() {
        return ring.#rebuilds * 1_000_000_000 + ring.#schedule.revision;
      },
    };
  }

  static async open(config: WritConfig, env: NodeJS.ProcessEnv, store: SettingsStore): Promise<KeyRing> {
    const ring = new KeyRing(config, env, store);
    await ring.reload();
    return ring;
  }

  /** The schedule: signing key, JWKS, key resolution, HMAC keys. */
  get schedule(): KeySchedule {
    return this.#schedule;
  }

  /** The access-token signer over the current schedule. */
  get signer(): AccessTokenSigner {
    if (this.#failure) throw new WritError('ERR_KEY_MATERIAL_INVALID', { detail: this.#failure });
    return this.#signer;
  }

  get settings(): Readonly<KeySettings> {
    return this.#settings;
  }

  /** Why this node cannot sign (set when the key settings leave it no usable root), else undefined. */
  get failure(): string | undefined {
    return this.#failure;
  }

  /**
   * Re-reads the key settings (and the root files) and rebuilds the schedule. If the new settings leave this node no
   * root to sign with (another node retired a generation whose successor this node lacks), the node stops issuing:
   * {@link signer} throws and `/readyz` fails, until a reload succeeds. The first load throws instead.
   */
  async reload(): Promise<void> {
    const s = (await this.store.get<KeySettings>(KEY_SETTINGS)) ?? { rotationOffset: 0, retiredGenerations: [] };
    if (this.#schedule && !this.#failure && JSON.stringify(s) === JSON.stringify(this.#settings)) return;
    const t = this.config.tokens;
    let schedule: KeySchedule;
    try {
      schedule = new KeySchedule({
        roots: loadRoots(this.config.data, this.env),
        retiredGenerations: s.retiredGenerations,
        alg: t.alg,
        epochSeconds: t.epochSeconds,
        maxTokenLifetime: t.maxLifetime,
        rotationOffset: s.rotationOffset,
      });
    } catch (e) {
      if (!this.#schedule) throw e;
      this.#failure = e instanceof WritError ? `${e.message}: ${e.detail ?? ''}` : String(e);
      return;
    }
    this.#failure = undefined;
    this.#signer = new AccessTokenSigner({
      keys: schedule,
      issuer: this.config.issuer,
      defaultLifetime: t.accessTokenTtl,
    });
    this.#schedule = schedule;
    this.#settings = s;
    this.#rebuilds++;
  }

  /**
   * Before retiring `generation`: makes sure another, newer root exists to sign with, creating the next root file in
   * the data folder when none does (one node). Several nodes must each receive that file before the retirement.
   */
  async ensureSuccessor(generation: number): Promise<void> {
    const roots = loadRoots(this.config.data, this.env).map((r) => r.generation);
    const retired = new Set([...this.#settings.retiredGenerations, generation]);
    if (roots.some((g) => !retired.has(g))) return;
    const next = Math.max(...roots) + 1;
    const file = rootFile(this.config.data, next);
    if (!existsSync(this.config.data)) {
      throw new WritError('ERR_INVALID_REQUEST', { detail: `no root newer than generation ${generation}` });
    }
    createSecretFile(file);
  }

  /** Advances signing to the (already published) next key on every node, and records it. */
  async rotate(feed: ChangeFeed, ledger: Ledger): Promise<Record<string, unknown>> {
    const next = { ...this.#settings, rotationOffset: this.#settings.rotationOffset + 1 };
    await this.store.set(KEY_SETTINGS, next);
    await feed.publish([{ kind: 'keys', data: { ...next } }]);
    await this.publishPending(ledger);
    return this.describe();
  }

  /**
   * Records `key.epoch_published` for every key in the JWKS that has no record yet. Several nodes may call it at
   * once: the settings store lets exactly one of them claim each key.
   */
  async publishPending(ledger: Ledger): Promise<void> {
    for (const jwk of this.#schedule.jwks().keys) {
      const kid = jwk.kid as string;
      const key = this.#schedule.resolve(kid);
      if (key.epoch === undefined || key.generation === undefined) continue;
      if (await this.store.setIfAbsent(`published:${kid}`, { epoch: key.epoch, generation: key.generation })) {
        await ledger.append({
          v: 1,
          type: 'key.epoch_published',
          time: Date.now(),
          epoch: key.epoch,
          generation: key.generation,
          kid,
          alg: key.alg,
        });
      }
    }
  }

  /** The keys and settings, for `writ keys list` and `GET /admin/keys`. */
  describe(): Record<string, unknown> {
    const schedule = this.#schedule;
    const signing = schedule.signingKey();
    return {
      alg: schedule.alg,
      epoch_seconds: schedule.epochSeconds,
      epoch: schedule.epoch(),
      active_generation: schedule.activeGeneration,
      retired_generations: this.#settings.retiredGenerations,
      rotation_offset: this.#settings.rotationOffset,
      keys: schedule.jwks().keys.map((jwk) => {
        const k = schedule.resolve(jwk.kid as string);
        return { kid: k.kid, alg: k.alg, generation: k.generation, epoch: k.epoch, signing: k.kid === signing.kid };
      }),
    };
  }
}
