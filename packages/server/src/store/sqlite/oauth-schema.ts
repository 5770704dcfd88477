/** SQLite schema of the OAuth component (clients, token state, change feed, settings). */
export const OAUTH_MIGRATIONS_SQLITE: readonly string[] = [
  `CREATE TABLE clients (
     client_id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT, auth_method TEXT NOT NULL, jwks TEXT,
     grant_types TEXT NOT NULL, scopes TEXT NOT NULL, audiences TEXT NOT NULL,
     authorization_details_types TEXT NOT NULL, dpop_bound INTEGER NOT NULL, access_token_format TEXT NOT NULL,
     access_token_ttl INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
   CREATE TABLE tokens (
     jti TEXT PRIMARY KEY, hash BLOB UNIQUE, kind TEXT NOT NULL, client_id TEXT NOT NULL, subject TEXT NOT NULL,
     family_id TEXT, parent_jti TEXT, claims TEXT NOT NULL, expires_at INTEGER NOT NULL, status TEXT NOT NULL);
   CREATE INDEX tokens_parent ON tokens (parent_jti) WHERE parent_jti IS NOT NULL;
   CREATE INDEX tokens_family ON tokens (family_id) WHERE family_id IS NOT NULL;
   CREATE INDEX tokens_expiry ON tokens (expires_at);
   CREATE TABLE changes (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, data TEXT NOT NULL, created_at INTEGER NOT NULL,
     expires_at INTEGER);
   CREATE INDEX changes_revocations ON changes (expires_at) WHERE kind = 'revocation';
   CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
];
