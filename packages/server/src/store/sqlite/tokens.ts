import { rowToToken, type StoredToken, type TokenRow, type TokenStore, tokenValues } from '../tokens.js';
import type { SqliteDb } from './db.js';

/** {@link TokenStore} on SQLite. */
export class SqliteTokenStore implements TokenStore {
  readonly #insert;
  readonly #byHash;
  readonly #byJti;
  readonly #spend;
  readonly #revoke;
  readonly #revokeSubject;
  readonly #revokeClient;
  readonly #descendants;
  readonly #family;
  readonly #purge;

  constructor(readonly db: SqliteDb) {
    this.#insert = db.prepare('INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    this.#byHash = db.prepare<[Buffer], TokenRow>('SELECT * FROM tokens WHERE hash = ?');
    this.#byJti = db.prepare<[string], TokenRow>('SELECT * FROM tokens WHERE jti = ?');
    this.#spend = db.prepare("UPDATE tokens SET status = 'spent' WHERE hash = ? AND status = 'active'");
    this.#revoke = db.prepare("UPDATE tokens SET status = 'revoked' WHERE jti = ? AND status != 'revoked'");
    this.#revokeSubject = db.prepare("UPDATE tokens SET status = 'revoked' WHERE subject = ? AND status != 'revoked'");
    this.#revokeClient = db.prepare("UPDATE tokens SET status = 'revoked' WHERE client_id = ? AND status != 'revoked'");
    this.#descendants = db.prepare<[string], { jti: string }>(
      `WITH RECURSIVE d(jti) AS (SELECT jti FROM tokens WHERE parent_jti = ?
         UNION SELECT t.jti FROM tokens t JOIN d ON t.parent_jti = d.jti) SELECT jti FROM d`,
    );
    this.#family = db.prepare<[string], { jti: string }>('SELECT jti FROM tokens WHERE family_id = ?');
    this.#purge = db.prepare('DELETE FROM tokens WHERE expires_at < ?');
  }

  async put(t: StoredToken): Promise<void> {
    this.#insert.run(...tokenValues(t));
  }

  async getByHash(hash: Buffer): Promise<StoredToken | undefined> {
    const r = this.#byHash.get(hash);
    return r && rowToToken(r);
  }

  async getByJti(jti: string): Promise<StoredToken | undefined> {
    const r = this.#byJti.get(jti);
    return r && rowToToken(r);
  }

  async spend(hash: Buffer): Promise<boolean> {
    return this.#spend.run(hash).changes === 1;
  }

  async setRevoked(jtis: string[]): Promise<number> {
    return this.db.transaction(() => jtis.reduce((n, j) => n + this.#revoke.run(j).changes, 0)).immediate();
  }

  async setRevokedWhere(field: 'subject' | 'clientId', value: string): Promise<number> {
    return (field === 'subject' ? this.#revokeSubject : this.#revokeClient).run(value).changes;
  }

  async descendants(jti: string): Promise<string[]> {
    return this.#descendants.all(jti).map((r) => r.jti);
  }

  async family(familyId: string): Promise<string[]> {
    return this.#family.all(familyId).map((r) => r.jti);
  }

  async purgeExpired(now: number): Promise<number> {
    return this.#purge.run(now).changes;
  }
}
