/**
 * The data folder: secrets (mode 0600), the SQLite database, and the first admin client's credentials.
 * `initDataDir` creates what is missing and never overwrites a secret.
 * @module
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecretFile } from '@writ/verifier';
import type { WritConfig } from './config.js';
import { rootFile } from './keyring.js';

/** The SQLite database file. */
export function sqliteFile(data: string): string {
  return join(data, 'writ.sqlite');
}

/** The log secret file (the checkpoint key is derived from it; it is not the token root). */
export function logSecretFile(data: string): string {
  return join(data, 'log.key');
}

/** Where the first admin client's credentials are written. */
export function adminCredentialsFile(data: string): string {
  return join(data, 'admin-credentials.json');
}

/** What {@link initDataDir} created. */
export interface InitResult {
  created: string[];
}

/**
 * Creates the data folder (mode 0700) and, unless provided by the environment, the generation-1 root secret and
 * the log secret (mode 0600). Existing files are kept.
 */
export function initDataDir(
  config: WritConfig,
  env: NodeJS.ProcessEnv,
  options: { issuerGiven?: boolean } = {},
): InitResult {
  const created: string[] = [];
  if (!existsSync(config.data)) {
    mkdirSync(config.data, { recursive: true, mode: 0o700 });
    created.push(config.data);
  }
  chmodSync(config.data, 0o700);
  const root = rootFile(config.data, 1);
  if (!env.WRIT_ROOT_SECRET && !existsSync(root)) {
    createSecretFile(root);
    created.push(root);
  }
  // The address (and an explicit issuer) given at set-up become the folder's defaults, so later commands on the same
  // data issue tokens for the same issuer without repeating them. Never a secret or a database URL.
  const settings = join(config.data, 'writ.json');
  if (!existsSync(settings)) {
    const saved = { host: config.host, port: config.port, ...(options.issuerGiven ? { issuer: config.issuer } : {}) };
    writeFileSync(settings, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    created.push(settings);
  }
  const log = logSecretFile(config.data);
  if (!env.WRIT_LOG_SECRET && !existsSync(log)) {
    createSecretFile(log);
    created.push(log);
  }
  return { created };
}

/** Writes the admin credentials file (mode 0600), refusing to overwrite one. */
export function writeAdminCredentials(data: string, value: Record<string, unknown>): string {
  const file = adminCredentialsFile(data);
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return file;
}
