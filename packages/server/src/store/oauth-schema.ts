/**
 * The OAuth component's tables (clients, token state, change feed, settings), written once for both backends with
 * each backend's column types, as `ledger-schema.ts` does for the ledger.
 * @module
 */
import type { SqlTypes } from './ledger-schema.js';

/** Column types beyond {@link SqlTypes} that the OAuth tables need. */
export interface OAuthSqlTypes extends SqlTypes {
  readonly bool: string;
  /** An auto-incrementing primary key column type. */
  readonly serial: string;
}

/** The `CREATE TABLE` statements of the OAuth component in a dialect. */
export function oauthTables(t: OAuthSqlTypes): string {
  return `CREATE TABLE clients (
     client_id ${t.text} PRIMARY KEY, name ${t.text} NOT NULL, secret_hash ${t.text}, auth_method ${t.text} NOT NULL,
     jwks ${t.text}, grant_types ${t.text} NOT NULL, scopes ${t.text} NOT NULL, audiences ${t.text} NOT NULL,
     authorization_details_types ${t.text} NOT NULL, dpop_bound ${t.bool} NOT NULL,
     access_token_format ${t.text} NOT NULL, access_token_ttl ${t.big}, created_at ${t.big} NOT NULL,
     updated_at ${t.big} NOT NULL);
   CREATE TABLE tokens (
     jti ${t.text} PRIMARY KEY, hash ${t.bytes} UNIQUE, kind ${t.text} NOT NULL, client_id ${t.text} NOT NULL,
     subject ${t.text} NOT NULL, family_id ${t.text}, parent_jti ${t.text}, claims ${t.text} NOT NULL,
     expires_at ${t.big} NOT NULL, status ${t.text} NOT NULL);
   CREATE INDEX tokens_parent ON tokens (parent_jti) WHERE parent_jti IS NOT NULL;
   CREATE INDEX tokens_family ON tokens (family_id) WHERE family_id IS NOT NULL;
   CREATE INDEX tokens_expiry ON tokens (expires_at);
   CREATE TABLE changes (
     seq ${t.serial}, kind ${t.text} NOT NULL, data ${t.text} NOT NULL, created_at ${t.big} NOT NULL,
     expires_at ${t.big});
   CREATE INDEX changes_revocations ON changes (expires_at) WHERE kind = 'revocation';
   CREATE TABLE settings (key ${t.text} PRIMARY KEY, value ${t.text} NOT NULL);`;
}
