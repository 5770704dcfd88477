import type pg from 'pg';
import { rowToToken, type StoredToken, type TokenRow, type TokenStore, tokenValues } from '../tokens.js';

/** {@link TokenStore} on PostgreSQL. */
export class PgTokenStore implements TokenStore {
  constructor(readonly pool: pg.Pool) {}

  async put(t: StoredToken): Promise<void> {
    await this.pool.query('INSERT INTO tokens VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)', tokenValues(t));
  }

  async getByHash(hash: Buffer): Promise<StoredToken | undefined> {
    const r = await this.pool.query<TokenRow>('SELECT * FROM tokens WHERE hash = $1', [hash]);
    return r.rows[0] && rowToToken(r.rows[0]);
  }

  async getByJti(jti: string): Promise<StoredToken | undefined> {
    const r = await this.pool.query<TokenRow>('SELECT * FROM tokens WHERE jti = $1', [jti]);
    return r.rows[0] && rowToToken(r.rows[0]);
  }

  async spend(hash: Buffer): Promise<boolean> {
    const r = await this.pool.query("UPDATE tokens SET status = 'spent' WHERE hash = $1 AND status = 'active'", [hash]);
    return r.rowCount === 1;
  }

  async setRevoked(jtis: string[]): Promise<number> {
    const r = await this.pool.query(
      "UPDATE tokens SET status = 'revoked' WHERE jti = ANY($1::text[]) AND status != 'revoked'",
      [jtis],
    );
    return r.rowCount ?? 0;
  }

  async setRevokedWhere(field: 'subject' | 'clientId', value: string): Promise<number> {
    const column = field === 'subject' ? 'subject' : 'client_id';
    const r = await this.pool.query(
      `UPDATE tokens SET status = 'revoked' WHERE ${column} = $1 AND status != 'revoked'`,
      [value],
    );
    return r.rowCount ?? 0;
  }

  async descendants(jti: string): Promise<string[]> {
    const r = await this.pool.query<{ jti: string }>(
      `WITH RECURSIVE d(jti) AS (SELECT jti FROM tokens WHERE parent_jti = $1
         UNION SELECT t.jti FROM tokens t JOIN d ON t.parent_jti = d.jti) SELECT jti FROM d`,
      [jti],
    );
    return r.rows.map((x) => x.jti);
  }

  async family(familyId: string): Promise<string[]> {
    const r = await this.pool.query<{ jti: string }>('SELECT jti FROM tokens WHERE family_id = $1', [familyId]);
    return r.rows.map((x) => x.jti);
  }

  async purgeExpired(now: number): Promise<number> {
    const r = await this.pool.query('DELETE FROM tokens WHERE expires_at < $1', [now]);
    return r.rowCount ?? 0;
  }
}
