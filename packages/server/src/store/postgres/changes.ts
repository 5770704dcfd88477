import type pg from 'pg';
import { type Change, type ChangeKind, type ChangeStore, changeExpiry, type SettingsStore } from '../changes.js';

/** The NOTIFY channel on which new change sequence numbers are announced. */
export const CHANGES_CHANNEL = 'writ_changes';

interface ChangeRow {
  seq: string;
  kind: string;
  data: string;
  created_at: string;
}

function fromRow(r: ChangeRow): Change {
  return { seq: Number(r.seq), kind: r.kind as ChangeKind, data: JSON.parse(r.data), createdAt: Number(r.created_at) };
}

/**
 * Appends in one schema take this transaction-scoped lock before drawing sequence numbers, so changes commit in
 * `seq` order: a follower that has read up to `seq` N can never later see a change below N commit (a bare
 * sequence hands out numbers at insert, and concurrent transactions may then commit in either order).
 */
const LOCK = `SELECT pg_advisory_xact_lock(${0x7763}, hashtext(current_schema()))`;

/**
 * {@link ChangeStore} on PostgreSQL. Appends NOTIFY `writ_changes` with the highest new sequence number inside the
 * same transaction, so listeners hear of a change only once it is committed; a listener that reconnects catches
 * up with `since`. Appends are serialised ({@link LOCK}), so reading by sequence number misses nothing.
 */
export class PgChangeStore implements ChangeStore {
  constructor(readonly pool: pg.Pool) {}

  async append(changes: Array<{ kind: ChangeKind; data: Record<string, unknown> }>, now: number): Promise<Change[]> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query(LOCK);
      const r = await c.query<ChangeRow>(
        `INSERT INTO changes (kind, data, created_at, expires_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) RETURNING *`,
        [
          changes.map((x) => x.kind),
          changes.map((x) => JSON.stringify(x.data)),
          changes.map(() => now),
          changes.map((x) => changeExpiry(x.kind, x.data)),
        ],
      );
      const out = r.rows.map(fromRow).sort((a, b) => a.seq - b.seq);
      if (out.length) await c.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, String(out[out.length - 1]!.seq)]);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }

  async since(after: number, limit: number): Promise<Change[]> {
    const r = await this.pool.query<ChangeRow>('SELECT * FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2', [
      after,
      limit,
    ]);
    return r.rows.map(fromRow);
  }

  async revocationsBetween(after: number, upTo: number, now: number, limit: number): Promise<Change[]> {
    const r = await this.pool.query<ChangeRow>(
      `SELECT * FROM changes WHERE kind = 'revocation' AND seq > $1 AND seq <= $2 AND expires_at >= $3
       ORDER BY seq LIMIT $4`,
      [after, upTo, now, limit],
    );
    return r.rows.map(fromRow);
  }

  async latestSeq(): Promise<number> {
    const r = await this.pool.query<{ seq: string | null }>('SELECT MAX(seq) AS seq FROM changes');
    return Number(r.rows[0]?.seq ?? 0);
  }

  async activeRevocations(now: number): Promise<Change[]> {
    const r = await this.pool.query<ChangeRow>(
      "SELECT * FROM changes WHERE kind = 'revocation' AND expires_at >= $1 ORDER BY seq",
      [now],
    );
    return r.rows.map(fromRow);
  }
}

/** {@link SettingsStore} on PostgreSQL. */
export class PgSettingsStore implements SettingsStore {
  constructor(readonly pool: pg.Pool) {}

  async get<T>(key: string): Promise<T | undefined> {
    const r = await this.pool.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]);
    return r.rows[0] ? (JSON.parse(r.rows[0].value) as T) : undefined;
  }

  async setIfAbsent(key: string, value: unknown): Promise<boolean> {
    const r = await this.pool.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [
      key,
      JSON.stringify(value),
    ]);
    return r.rowCount === 1;
  }

  async set(key: string, value: unknown): Promise<void> {
    await this.pool.query(
      'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      [key, JSON.stringify(value)],
    );
  }
}
