/**
 * Opens everything a Writ node needs — database, stores, ledger, keys, revocation set, change feed — from a
 * configuration. The HTTP server and every CLI command use the same services, so a command that changes state
 * does exactly what the server would (the ledger's sequencer lock keeps them from forking the log).
 * @module
 */
import { loadSecret, type Secret } from '@writ/verifier';
import { RevocationSet } from '@writ/verifier/gateway';
import type pg from 'pg';
import pino from 'pino';
import { Ledger } from '../ledger/ledger.js';
import type { Change, Revocation } from '../store/changes.js';
import { type LedgerStores, openPgLedgerStores, openSqliteLedgerStores } from '../store/ledger.js';
import { type OAuthStores, openPgOAuthStores, openSqliteOAuthStores } from '../store/oauth.js';
import { createPgPool } from '../store/postgres/db.js';
import { openSqlite, type SqliteDb } from '../store/sqlite/db.js';
import { ChangeFeed } from './change-feed.js';
import { ClientRegistry } from './client-registry.js';
import type { WritConfig } from './config.js';
import { logSecretFile, sqliteFile } from './data-dir.js';
import { Issuer } from './issuer.js';
import { KeyRing } from './keyring.js';
import { Metrics } from './metrics.js';
import { Revoker } from './revoker.js';
import { UsageLog } from './usage-log.js';

/** The database behind a node. */
export type Backend = { kind: 'sqlite'; db: SqliteDb; path: string } | { kind: 'postgres'; pool: pg.Pool; url: string };

/** Options of {@link openServices}. */
export interface OpenServicesOptions {
  /** `server` runs the checkpointer and follows the feed; `cli` does one job and closes. */
  role: 'server' | 'cli';
  /** Environment for secrets (`WRIT_ROOT_SECRET`, `WRIT_LOG_SECRET`); default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Logger (default: pino at the configured level, to stderr). */
  log?: pino.Logger;
  /** Metrics registry (default: a new one). */
  metrics?: Metrics;
}

/** Paths that pino redacts wherever they appear in a log object. */
export const REDACT_PATHS = [
  'token',
  'access_token',
  'refresh_token',
  'client_secret',
  'secret',
  'assertion',
  'client_assertion',
  'subject_token',
  'actor_token',
  'req.headers.authorization',
  'req.headers.dpop',
  'req.headers.cookie',
  'headers.authorization',
  'headers.dpop',
];

/** A structured JSON logger (to stderr) that never prints tokens or secrets. */
export function createLogger(level: string): pino.Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, pino.destination(2));
}

/** The ledger origin a new log gets: the issuer's host and path, then `/ledger` (C2SP: a schema-less URL). */
export function defaultOrigin(issuer: string): string {
  const u = new URL(issuer);
  return `${u.host}${u.pathname.replace(/\/+$/, '')}/ledger`;
}

/** Everything one node runs on. */
export class Services {
  private constructor(
    readonly config: WritConfig,
    readonly log: pino.Logger,
    readonly metrics: Metrics,
    readonly backend: Backend,
    readonly stores: OAuthStores,
    readonly ledgerStores: LedgerStores,
    readonly ledger: Ledger,
    readonly keys: KeyRing,
    readonly revocations: RevocationSet,
    readonly feed: ChangeFeed,
    readonly clients: ClientRegistry,
    readonly issuer: Issuer,
    readonly revoker: Revoker,
    readonly usage: UsageLog,
    readonly logSecret: Secret,
  ) {}

  /** Opens the services of a node (see {@link OpenServicesOptions}). */
  static async open(config: WritConfig, options: OpenServicesOptions): Promise<Services> {
    const env = options.env ?? process.env;
    const log = options.log ?? createLogger(config.logLevel);
    const metrics = options.metrics ?? new Metrics({ processMetrics: options.role === 'server' });
    const logSecret = loadSecret({ file: logSecretFile(config.data), env: 'WRIT_LOG_SECRET', environment: env });
    let backend: Backend;
    let stores: OAuthStores;
    let ledgerStores: LedgerStores;
    if (config.database) {
      const pool = await createPgPool(config.database, { max: options.role === 'server' ? 16 : 4 });
      backend = { kind: 'postgres', pool, url: config.database };
      try {
        stores = await openPgOAuthStores(pool);
        ledgerStores = await openPgLedgerStores(pool);
      } catch (e) {
        await pool.end().catch(() => {});
        throw e;
      }
    } else {
      const path = sqliteFile(config.data);
      const db = openSqlite(path);
      backend = { kind: 'sqlite', db, path };
      stores = openSqliteOAuthStores(db);
      ledgerStores = openSqliteLedgerStores(db);
    }
    const keys = await KeyRing.open(config, env, stores.settings);
    const existing = await ledgerStores.log.readMeta();
    const ledger = await Ledger.open({
      stores: ledgerStores,
      logSecret,
      // The origin is fixed when the log is created; later opens use the stored one.
      origin: existing ? undefined : defaultOrigin(config.issuer),
      pseudonymKey: keys.schedule.pseudonymKey(),
      checkpointIntervalMs: config.ledger.checkpointIntervalMs,
      checkpointEvery: config.ledger.checkpointEvery,
      maxQueue: config.ledger.queueLimit,
      observer: {
        append: (ms) => metrics.appendLatency.observe(ms / 1000),
        batch: (_n, _ms, size) => metrics.ledgerSize.set(size),
      },
    });
    const revocations = new RevocationSet();
    const applyRevocation = (c: Change) =>
      revocations.apply({ seq: c.seq, ...(c.data as unknown as Revocation) }, Date.now());
    const clients = new ClientRegistry(stores.clients);
    const apply = async (c: Change) => {
      if (c.kind === 'revocation') applyRevocation(c);
      else if (c.kind === 'keys') await keys.reload();
      else if (c.kind === 'client') clients.forget(String(c.data.clientId));
      else if (c.kind === 'subject-erased') issuer.forgetPseudonyms();
    };
    const feed = new ChangeFeed({
      store: stores.changes,
      apply,
      listenUrl: backend.kind === 'postgres' ? backend.url : undefined,
      onError: (e) => log.warn({ err: e }, 'change feed read failed; retrying'),
    });
    const issuer = new Issuer({ config, keys, ledger, tokens: stores.tokens, metrics });
    clients.attach(ledger, feed);
    const revoker = new Revoker({ config, keys, ledger, tokens: stores.tokens, feed, metrics });
    const now = Math.floor(Date.now() / 1000);
    const from = await stores.changes.latestSeq();
    for (const c of await stores.changes.activeRevocations(now)) applyRevocation(c);
    await feed.start(from);
    return new Services(
      config,
      log,
      metrics,
      backend,
      stores,
      ledgerStores,
      ledger,
      keys,
      revocations,
      feed,
      clients,
      issuer,
      revoker,
      new UsageLog(ledger, metrics),
      logSecret,
    );
  }

  /** Flushes the ledger (signing a final checkpoint), stops following the feed and closes the database. */
  async close(): Promise<void> {
    await this.feed.close();
    this.usage.close();
    await this.ledger.close();
    if (this.backend.kind === 'sqlite') this.backend.db.close();
    else await this.backend.pool.end();
  }
}
