import { WritError } from '@writ/verifier';
import type pg from 'pg';
import {
  type ClientPatch,
  type ClientRecord,
  type ClientRow,
  type ClientStore,
  clientToRow,
  rowToClient,
} from '../clients.js';

const COLUMNS = [
  'client_id',
  'name',
  'secret_hash',
  'auth_method',
  'jwks',
  'grant_types',
  'scopes',
  'audiences',
  'authorization_details_types',
  'dpop_bound',
  'access_token_format',
  'access_token_ttl',
  'created_at',
  'updated_at',
] as const;

const UPSERT =
  `INSERT INTO clients (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}) ` +
  `ON CONFLICT (client_id) DO UPDATE SET ${COLUMNS.slice(1)
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}`;

function values(c: ClientRecord): unknown[] {
  const row = clientToRow(c);
  return COLUMNS.map((k) => (k === 'dpop_bound' ? c.dpopBound : row[k]));
}

/** {@link ClientStore} on PostgreSQL. */
export class PgClientStore implements ClientStore {
  constructor(readonly pool: pg.Pool) {}

  async get(clientId: string): Promise<ClientRecord | undefined> {
    const r = await this.pool.query<ClientRow>('SELECT * FROM clients WHERE client_id = $1', [clientId]);
    return r.rows[0] && rowToClient(r.rows[0]);
  }

  async list(): Promise<ClientRecord[]> {
    const r = await this.pool.query<ClientRow>('SELECT * FROM clients ORDER BY created_at, client_id');
    return r.rows.map(rowToClient);
  }

  async create(client: ClientRecord): Promise<void> {
    const insert = UPSERT.replace(/ ON CONFLICT[\s\S]*$/, ' ON CONFLICT (client_id) DO NOTHING');
    const r = await this.pool.query(insert, values(client));
    if (r.rowCount !== 1) throw new WritError('ERR_INVALID_REQUEST', { detail: `client ${client.clientId} exists` });
  }

  async update(clientId: string, patch: ClientPatch, now: number): Promise<ClientRecord | undefined> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const r = await c.query<ClientRow>('SELECT * FROM clients WHERE client_id = $1 FOR UPDATE', [clientId]);
      if (!r.rows[0]) {
        await c.query('ROLLBACK');
        return undefined;
      }
      const next: ClientRecord = { ...rowToClient(r.rows[0]), ...patch, clientId, updatedAt: now };
      await c.query(UPSERT, values(next));
      await c.query('COMMIT');
      return next;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }

  async remove(clientId: string): Promise<boolean> {
    const r = await this.pool.query('DELETE FROM clients WHERE client_id = $1', [clientId]);
    return (r.rowCount ?? 0) > 0;
  }
}
