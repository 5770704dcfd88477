/**
 * Auditing a stored ledger (the library behind `writ audit verify`). It trusts only the log's verifier key (and a
 * checkpoint the auditor saved earlier), never the database:
 *
 * 1. Streams every entry, recomputing the tree with a right frontier (O(log n) memory besides one page) and
 *    comparing each recomputed tile hash with the stored tiles.
 * 2. Checks every stored checkpoint's signature against the verifier key, its root against the root recomputed
 *    from the entries at its size, and its consistency with the previous checkpoint through an RFC 9162 proof built
 *    from the stored tiles (what a client of the tile API would see).
 * 3. With a saved checkpoint, proves the log still extends it: a rolled-back or rewritten database fails here.
 *
 * The report names the first bad index where one can be named, and what is wrong.
 * @module
 */
import {
  consistencyProof,
  HASH_SIZE,
  leafHash,
  MerkleFrontier,
  type NoteVerifier,
  openCheckpoint,
  parseVerifierKey,
  TILE_HEIGHT,
  TILE_WIDTH,
  tileWidth,
  verifyConsistency,
  WritError,
} from '@writ/verifier';
import type { CheckpointStore } from '../store/checkpoints.js';
import type { LogStore, StoredTree, TileKey } from '../store/ledger-log.js';
import { TileReader } from './tiles.js';

/** What an audit can find wrong. */
export type AuditProblemKind =
  | 'origin-mismatch'
  | 'entry-missing'
  | 'entry-mismatch'
  | 'entry-beyond-tree'
  | 'tile-mismatch'
  | 'tile-missing'
  | 'tile-width'
  | 'tree-mismatch'
  | 'checkpoint-missing'
  | 'checkpoint-signature'
  | 'checkpoint-root'
  | 'checkpoint-beyond-tree'
  | 'checkpoint-inconsistent'
  | 'saved-checkpoint-ahead'
  | 'saved-checkpoint-root';

/** One finding. `index` is the first entry it concerns, `size` the tree size of a checkpoint. */
export interface AuditProblem {
  readonly kind: AuditProblemKind;
  readonly message: string;
  readonly index?: number;
  readonly size?: number;
}

/** The result of {@link auditLedger}. */
export interface AuditReport {
  readonly ok: boolean;
  readonly origin: string;
  readonly treeSize: number;
  readonly entriesChecked: number;
  readonly checkpointsChecked: number;
  /** The largest stored checkpoint whose signature verified. */
  readonly latestCheckpoint: { readonly size: number; readonly root: string } | undefined;
  /** The lowest entry index any problem names. */
  readonly firstBadIndex: number | undefined;
  readonly problems: readonly AuditProblem[];
}

/** Inputs of {@link auditLedger}. */
export interface AuditOptions {
  readonly log: LogStore;
  readonly checkpoints: CheckpointStore;
  /** The log's note verifier key (from the log secret or published by the operator); never read from the database. */
  readonly verifierKey: string;
  /** A signed checkpoint the auditor saved earlier. */
  readonly savedCheckpoint?: string;
  /** Called after each page with the entries checked so far and the total. */
  readonly onProgress?: (checked: number, total: number) => void;
  /** Entries read per query (default 4096). */
  readonly pageSize?: number;
  /** Stop collecting after this many problems (default 100). */
  readonly maxProblems?: number;
}

interface Target {
  readonly size: number;
  readonly root: Buffer;
  readonly saved: boolean;
}

function why(e: unknown): string {
  return e instanceof WritError ? (e.detail ?? e.message) : e instanceof Error ? e.message : String(e);
}

/** The checkpoints to compare with the tree, in size order: the stored ones that verify, and the saved one. */
class Targets {
  readonly #stored: AsyncGenerator<Target>;
  #head: Target | undefined | null = null; // null: not read yet
  #saved: Target | undefined;

  constructor(stored: AsyncGenerator<Target>, saved: Target | undefined) {
    this.#stored = stored;
    this.#saved = saved;
  }

  async peek(): Promise<Target | undefined> {
    if (this.#head === null) {
      const r = await this.#stored.next();
      this.#head = r.done ? undefined : r.value;
    }
    return this.#saved && (!this.#head || this.#saved.size <= this.#head.size) ? this.#saved : this.#head;
  }

  take(t: Target): void {
    if (t === this.#saved) this.#saved = undefined;
    else this.#head = null;
  }
}

/** One audit run; see the module comment for what it checks. */
class Audit {
  readonly #o: AuditOptions;
  readonly #targets: Targets;
  readonly #tiles: TileReader;
  readonly #frontier = new MerkleFrontier();
  readonly problems: AuditProblem[] = [];
  #next: Target | undefined;
  latest: Target | undefined;
  checkpointsChecked = 0;
  /** Tile level → first entry under the first stored hash of that level that differs from the entries. */
  readonly #mismatch = new Map<number, number>();
  readonly #rootMismatches: number[] = [];

  constructor(options: AuditOptions, verifier: NoteVerifier, origin: string, saved: Target | undefined) {
    this.#o = options;
    this.#tiles = new TileReader(options.log, 64);
    const report = (p: AuditProblem) => this.report(p);
    this.#targets = new Targets(
      (async function* () {
        for (let after = -1; ; ) {
          const page = await options.checkpoints.list(after, 1000);
          if (page.length === 0) return;
          for (const cp of page) {
            after = cp.size;
            try {
              const { checkpoint } = openCheckpoint(cp.note, verifier, origin);
              if (checkpoint.size !== cp.size) throw new WritError('ERR_CHECKPOINT_INVALID', { detail: 'wrong size' });
              yield { size: cp.size, root: checkpoint.root, saved: false };
            } catch (e) {
              report({
                kind: 'checkpoint-signature',
                size: cp.size,
                message: `checkpoint ${cp.size} is not valid: ${why(e)}`,
              });
            }
          }
        }
      })(),
      saved,
    );
  }

  report(p: AuditProblem): void {
    if (this.problems.length < (this.#o.maxProblems ?? 100)) this.problems.push(p);
  }

  get checked(): number {
    return this.#frontier.size;
  }

  /** Compares the tree, at its current size, with every checkpoint of that size. */
  async #reach(): Promise<void> {
    while (this.#next && this.#next.size <= this.#frontier.size) {
      const t = this.#next;
      this.#targets.take(t);
      this.#next = await this.#targets.peek();
      const root = this.#frontier.root();
      if (!root.equals(t.root)) {
        this.#rootMismatches.push(t.size);
        this.report({
          kind: t.saved ? 'saved-checkpoint-root' : 'checkpoint-root',
          size: t.size,
          message: t.saved
            ? `the entries give another root at size ${t.size} than the saved checkpoint: history was rewritten`
            : `the entries give another root at size ${t.size} than the signed checkpoint`,
        });
      }
      if (t.saved) continue;
      this.checkpointsChecked++;
      const prev = this.latest;
      this.latest = t;
      if (prev && prev.size > 0 && prev.size < t.size) {
        try {
          const proof = await consistencyProof(prev.size, t.size, this.#tiles);
          verifyConsistency(prev.size, t.size, proof, prev.root, t.root);
        } catch (e) {
          this.report({
            kind: 'checkpoint-inconsistent',
            size: t.size,
            message: `the stored tree proves no consistency from checkpoint ${prev.size} to ${t.size}: ${why(e)}`,
          });
        }
      }
    }
  }

  /** Recomputes the tree from entries `[0, total)`; false when an entry is missing (the stream stops there). */
  async stream(total: number, pageSize: number): Promise<boolean> {
    this.#next = await this.#targets.peek();
    await this.#reach();
    for (let start = 0; start < total; start += pageSize) {
      const end = Math.min(total, start + pageSize);
      const rows = await this.#o.log.readEntries(start, end);
      const nodes: TileNode[] = [];
      const visit = (level: number, index: number, hash: Buffer) => {
        if (level % TILE_HEIGHT === 0) nodes.push({ level: level / TILE_HEIGHT, index, hash });
      };
      for (let i = start; i < end; i++) {
        const row = rows[i - start];
        if (row?.index !== i) {
          this.report({ kind: 'entry-missing', index: i, message: `entry ${i} is missing (the tree has ${total})` });
          return false;
        }
        this.#frontier.append(leafHash(row.data), visit);
        if (this.#next?.size === i + 1) await this.#reach();
      }
      await this.#compareTiles(nodes);
      this.#o.onProgress?.(end, total);
    }
    return true;
  }

  /**
   * Compares recomputed tile hashes with the stored tiles. Only the first mismatch of each level counts, and one
   * at a higher level is not reported when a lower level's mismatch under it explains it.
   */
  async #compareTiles(nodes: readonly TileNode[]): Promise<void> {
    // Nodes come level by level in index order, so each level's tiles are one run of tile indices.
    const runs = new Map<number, { first: number; last: number }>();
    for (const n of nodes) {
      const t = Math.floor(n.index / TILE_WIDTH);
      const run = runs.get(n.level);
      if (run) run.last = t;
      else runs.set(n.level, { first: t, last: t });
    }
    const keys: TileKey[] = [];
    for (const [level, { first, last }] of runs) for (let t = first; t <= last; t++) keys.push({ level, index: t });
    const read = await this.#o.log.readTiles(keys);
    const offset = new Map<number, number>(); // level → position of its first tile in `read`
    keys.forEach((k, i) => {
      if (!offset.has(k.level)) offset.set(k.level, i);
    });
    for (const n of nodes) {
      if (this.#mismatch.has(n.level)) continue;
      const t = Math.floor(n.index / TILE_WIDTH);
      const tile = read[offset.get(n.level)! + t - runs.get(n.level)!.first];
      const at = (n.index - t * TILE_WIDTH) * HASH_SIZE;
      const missing = !tile || tile.length < at + HASH_SIZE;
      if (!missing && n.hash.compare(tile, at, at + HASH_SIZE) === 0) continue;
      const span = TILE_WIDTH ** n.level;
      const first = n.index * span;
      const explained = [...this.#mismatch].some(([l, i]) => l < n.level && i >= first && i < first + span);
      this.#mismatch.set(n.level, first);
      if (explained || (n.level === 0 && !missing)) continue; // a leaf mismatch is named in classifyLeafMismatch
      this.report(
        missing
          ? {
              kind: 'tile-missing',
              index: first,
              message: `level-${n.level} tile hashes are missing from entry ${first}`,
            }
          : {
              kind: 'tile-mismatch',
              index: first,
              message: `the stored level-${n.level} tile hash over entries from ${first} differs from the entries`,
            },
      );
    }
  }

  /** Names a leaf-hash mismatch: the signed checkpoints decide whether the entry or only its stored hash changed. */
  classifyLeafMismatch(): void {
    const i = this.#mismatch.get(0);
    if (i === undefined || this.problems.some((p) => p.kind === 'tile-missing' && p.index === i)) return;
    const signedBad = this.#rootMismatches.some((s) => s > i);
    const signedGood = !signedBad && this.latest !== undefined && this.latest.size > i;
    this.report(
      signedGood
        ? {
            kind: 'tile-mismatch',
            index: i,
            message: `the stored leaf hash of entry ${i} was altered (the entry matches the signed checkpoints)`,
          }
        : {
            kind: 'entry-mismatch',
            index: i,
            message: `entry ${i} was altered: its hash differs from the stored tree${signedBad ? ' and the signed checkpoints' : ''}`,
          },
    );
  }

  /** After a complete stream: the stored state, the tile edges, and checkpoints beyond the tree. */
  async finish(tree: StoredTree): Promise<void> {
    const { log } = this.#o;
    const total = tree.size;
    if (!this.#frontier.toBytes().equals(tree.frontier)) {
      this.report({
        kind: 'tree-mismatch',
        message: 'the stored tree state differs from the tree recomputed from the entries',
      });
    }
    const now = await log.readTree(); // appends may have landed during the audit
    if ((await log.readEntries(now.size, now.size + 1)).length > 0) {
      this.report({ kind: 'entry-beyond-tree', index: now.size, message: `entry ${now.size} lies beyond the tree` });
    }
    for (let level = 0; now.size === total && TILE_WIDTH ** level <= total; level++) {
      const last = Math.floor(total / TILE_WIDTH ** (level + 1));
      const width = tileWidth(level, last, total);
      const [tile, next] = await log.readTiles([
        { level, index: last },
        { level, index: last + 1 },
      ]);
      if ((tile?.length ?? 0) !== width * HASH_SIZE || next !== undefined) {
        this.report({
          kind: 'tile-width',
          message: `the level-${level} tiles do not end where a tree of ${total} does`,
        });
      }
    }
    for (let t = this.#next; t; t = await this.#targets.peek()) {
      this.#targets.take(t);
      if (t.size <= now.size) continue; // the tree grew during the audit
      this.report(
        t.saved
          ? {
              kind: 'saved-checkpoint-ahead',
              size: t.size,
              message: `the log has ${now.size} entries but a checkpoint saved earlier has ${t.size}: the database was rolled back or truncated`,
            }
          : {
              kind: 'checkpoint-beyond-tree',
              size: t.size,
              message: `checkpoint ${t.size} is beyond the log's ${now.size} entries: the log was truncated`,
            },
      );
    }
    if (this.checkpointsChecked === 0) {
      this.report({ kind: 'checkpoint-missing', message: 'no stored checkpoint verifies with the log key' });
    }
  }
}

interface TileNode {
  readonly level: number;
  readonly index: number;
  readonly hash: Buffer;
}

/** Audits a ledger's stores. Throws (`ERR_NOTE_INVALID`, `ERR_CHECKPOINT_INVALID`, ...) only for unusable input. */
export async function auditLedger(options: AuditOptions): Promise<AuditReport> {
  const verifier = parseVerifierKey(options.verifierKey);
  const meta = await options.log.readMeta();
  if (!meta) throw new WritError('ERR_LEDGER_UNAVAILABLE', { detail: 'no ledger in this database' });
  const saved = options.savedCheckpoint
    ? openCheckpoint(options.savedCheckpoint, verifier, meta.origin).checkpoint
    : undefined;
  const audit = new Audit(options, verifier, meta.origin, saved && { size: saved.size, root: saved.root, saved: true });
  if (meta.origin !== verifier.name) {
    audit.report({
      kind: 'origin-mismatch',
      message: `the ledger's origin ${meta.origin} is not the key's ${verifier.name}`,
    });
  }
  const tree = await options.log.readTree();
  const complete = await audit.stream(tree.size, options.pageSize ?? 4096);
  audit.classifyLeafMismatch();
  if (complete) await audit.finish(tree);
  const indices = audit.problems.flatMap((p) => (p.index === undefined ? [] : [p.index]));
  return {
    ok: audit.problems.length === 0,
    origin: meta.origin,
    treeSize: tree.size,
    entriesChecked: audit.checked,
    checkpointsChecked: audit.checkpointsChecked,
    latestCheckpoint: audit.latest && { size: audit.latest.size, root: audit.latest.root.toString('base64') },
    firstBadIndex: indices.length > 0 ? Math.min(...indices) : undefined,
    problems: audit.problems,
  };
}
