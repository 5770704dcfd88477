import { WritError } from '@writ/verifier';
import {
  type ClientPatch,
  type ClientRecord,
  type ClientRow,
  type ClientStore,
  clientToRow,
  rowToClient,
} from '../clients.js';
import type { SqliteDb } from './db.js';

/** {@link ClientStore} on SQLite. */
export class SqliteClientStore implements ClientStore {
  readonly #get;
  readonly #list;
  readonly #insert;
  readonly #delete;

  constructor(readonly db: SqliteDb) {
    this.#get = db.prepare<[string], ClientRow>('SELECT * FROM clients WHERE client_id = ?');
    this.#list = db.prepare<[], ClientRow>('SELECT * FROM clients ORDER BY created_at, client_id');
    this.#insert = db.prepare(
      `INSERT OR REPLACE INTO clients VALUES (@client_id, @name, @secret_hash, @auth_method, @jwks, @grant_types,
       @scopes, @audiences, @authorization_details_types, @dpop_bound, @access_token_format, @access_token_ttl,
       @created_at, @updated_at)`,
    );
    this.#delete = db.prepare('DELETE FROM clients WHERE client_id = ?');
  }

  async get(clientId: string): Promise<ClientRecord | undefined> {
    const r = this.#get.get(clientId);
    return r && rowToClient(r);
  }

  async list(): Promise<ClientRecord[]> {
    return this.#list.all().map(rowToClient);
  }

  async create(client: ClientRecord): Promise<void> {
    this.db
      .transaction(() => {
        if (this.#get.get(client.clientId)) {
          throw new WritError('ERR_INVALID_REQUEST', { detail: `client ${client.clientId} exists` });
        }
        this.#insert.run(clientToRow(client));
      })
      .immediate();
  }

  async update(clientId: string, patch: ClientPatch, now: number): Promise<ClientRecord | undefined> {
    return this.db
      .transaction(() => {
        const row = this.#get.get(clientId);
        if (!row) return undefined;
        const next: ClientRecord = { ...rowToClient(row), ...patch, clientId, updatedAt: now };
        this.#insert.run(clientToRow(next));
        return next;
      })
      .immediate();
  }

  async remove(clientId: string): Promise<boolean> {
    return this.#delete.run(clientId).changes > 0;
  }
}
