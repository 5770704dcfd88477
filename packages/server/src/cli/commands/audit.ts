/**
 * `writ audit verify`: audits a ledger database (see `ledger/audit.ts`).
 *
 *     writ audit verify [--data DIR | --database postgres://...] [--checkpoint FILE] [--key VERIFIER_KEY_OR_FILE] [--json]
 *
 * The log's verifier key comes from `--key` (the key text, or a file holding it), else from the log secret in
 * `<data>/log.key`. Exit status: 0 clean, 1 tampered, 2 usage error (or a database that cannot be read).
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadSecret, parseVerifierKey, secretFileIsExposed, WritError } from '@writ/verifier';
import { type AuditReport, auditLedger } from '../../ledger/audit.js';
import { logKey } from '../../ledger/log-key.js';
import { type LedgerStores, openPgLedgerStores, openSqliteLedgerStores } from '../../store/ledger.js';
import { createPgPool } from '../../store/postgres/db.js';
import { openSqlite } from '../../store/sqlite/db.js';

/** Where a command writes and what environment it sees. */
export interface CommandIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

const USAGE = `usage: writ audit verify [--data DIR | --database postgres://...] [--checkpoint FILE]
                         [--key VERIFIER_KEY_OR_FILE] [--json]

Recomputes the ledger's Merkle tree from its entries, checks every stored checkpoint's signature and its
consistency with the next, and with --checkpoint proves that the log still extends a checkpoint saved earlier.

  --data DIR         data directory holding writ.sqlite and log.key (default ./writ-data, env WRIT_DATA)
  --database URL     audit a PostgreSQL ledger instead (env WRIT_DATABASE_URL)
  --checkpoint FILE  a signed checkpoint saved earlier (e.g. from GET /checkpoint)
  --key KEY|FILE     the log's verifier key (name+id+key), or a file holding it; default: derived from
                     <data>/log.key
  --json             print one JSON report on stdout

Exit status: 0 clean, 1 tampered, 2 usage error.
`;

class UsageError extends Error {}

/** The verifier key: `--key` (text or file), else derived from the log secret in `<data>/log.key`. */
function verifierKeyFrom(key: string | undefined, data: string, origin: string, io: CommandIO): string {
  if (key !== undefined) {
    const text = existsSync(key) ? readFileSync(key, 'utf8').trim() : key;
    parseVerifierKey(text);
    return text;
  }
  const file = join(data, 'log.key');
  if (!existsSync(file)) throw new UsageError(`no verifier key: pass --key, or keep the log secret in ${file}`);
  if (secretFileIsExposed(file)) io.stderr.write(`writ audit: warning: ${file} is readable by others (chmod 600)\n`);
  return logKey(loadSecret({ file }), origin).verifierKey;
}

async function openStores(
  database: string | undefined,
  data: string,
): Promise<{ stores: LedgerStores; close(): Promise<void> }> {
  if (database) {
    const pool = await createPgPool(database, { max: 2, applicationName: 'writ-audit' });
    try {
      return { stores: await openPgLedgerStores(pool, { migrate: false }), close: () => pool.end() };
    } catch (e) {
      await pool.end();
      throw e;
    }
  }
  const file = join(data, 'writ.sqlite');
  if (!existsSync(file)) throw new UsageError(`no ledger database at ${file}`);
  const db = openSqlite(file, { readonly: true });
  return { stores: openSqliteLedgerStores(db), close: async () => void db.close() };
}

function describe(report: AuditReport): string {
  const cp = report.latestCheckpoint;
  let out =
    `ledger ${report.origin}: ${report.entriesChecked} of ${report.treeSize} entries checked, ` +
    `${report.checkpointsChecked} checkpoints verified` +
    (cp ? `, latest at size ${cp.size} (root ${cp.root})` : '') +
    '\n';
  if (report.ok) return `${out}OK: the log verifies\n`;
  out += `TAMPERED${report.firstBadIndex === undefined ? '' : `: first bad index ${report.firstBadIndex}`}\n`;
  for (const p of report.problems) out += `  ${p.kind}: ${p.message}\n`;
  return out;
}

/** Runs `writ audit <argv>`; resolves with the exit status. */
export async function auditCommand(argv: string[], io: CommandIO): Promise<number> {
  let values: { data?: string; database?: string; checkpoint?: string; key?: string; json?: boolean; help?: boolean };
  try {
    const [sub, ...rest] = argv;
    if (sub === '--help' || sub === '-h') {
      io.stdout.write(USAGE);
      return 0;
    }
    if (sub !== 'verify') throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand ${sub}`);
    ({ values } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: false,
      options: {
        data: { type: 'string' },
        database: { type: 'string' },
        checkpoint: { type: 'string' },
        key: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    io.stderr.write(`writ audit: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const data = values.data ?? io.env.WRIT_DATA ?? './writ-data';
  const database = values.database ?? io.env.WRIT_DATABASE_URL;
  const tty = (io.stderr as { isTTY?: boolean }).isTTY === true && !values.json;
  let opened: { stores: LedgerStores; close(): Promise<void> } | undefined;
  try {
    const saved = values.checkpoint === undefined ? undefined : readFileSync(values.checkpoint, 'utf8');
    opened = await openStores(database, data);
    const meta = await opened.stores.log.readMeta();
    if (!meta) throw new UsageError('the database holds no ledger');
    const report = await auditLedger({
      log: opened.stores.log,
      checkpoints: opened.stores.checkpoints,
      verifierKey: verifierKeyFrom(values.key, data, meta.origin, io),
      savedCheckpoint: saved,
      onProgress: tty
        ? (done, total) =>
            io.stderr.write(
              `\rwrit audit: ${done}/${total} entries (${Math.floor((100 * done) / Math.max(total, 1))}%)`,
            )
        : undefined,
    });
    if (tty) io.stderr.write('\n');
    io.stdout.write(values.json ? `${JSON.stringify(report)}\n` : describe(report));
    return report.ok ? 0 : 1;
  } catch (e) {
    const why = e instanceof WritError ? `${e.message}${e.detail ? `: ${e.detail}` : ''}` : (e as Error).message;
    io.stderr.write(`writ audit: ${why}\n`);
    return 2;
  } finally {
    await opened?.close();
  }
}
