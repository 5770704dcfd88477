import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createSecretFile, loadSecret } from '@writ/verifier';
import { auditCommand } from '../../src/cli/commands/audit.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { openSqliteLedgerStores } from '../../src/store/ledger.js';
import { openSqlite } from '../../src/store/sqlite/db.js';
import { PSEUDONYM_KEY, pgBackend, usedRecord } from '../ledger/backends.js';
import { openLedger } from '../ledger/conformance.js';

/** Runs the command with in-memory streams; `tty` makes stderr look like a terminal. */
async function run(argv: string[], env: NodeJS.ProcessEnv = {}, tty = false) {
  let stdout = '';
  let stderr = '';
  const sink = (onChunk: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, cb) {
        onChunk(String(chunk));
        cb();
      },
    });
  const code = await auditCommand(argv, {
    stdout: sink((s) => {
      stdout += s;
    }),
    stderr: Object.assign(
      sink((s) => {
        stderr += s;
      }),
      { isTTY: tty },
    ),
    env,
  });
  return { code, stdout, stderr };
}

describe('writ audit verify (SQLite data directory)', () => {
  let data: string;
  let verifierKey: string;
  let saved: string;

  before(async () => {
    data = mkdtempSync(join(tmpdir(), 'writ-audit-'));
    const logSecret = createSecretFile(join(data, 'log.key'));
    const db = openSqlite(join(data, 'writ.sqlite'));
    const ledger = await Ledger.open({
      stores: openSqliteLedgerStores(db),
      logSecret,
      origin: 'writ.test/cli',
      pseudonymKey: PSEUDONYM_KEY,
    });
    await Promise.all(Array.from({ length: 300 }, (_, i) => ledger.append(usedRecord(i))));
    await ledger.close();
    verifierKey = ledger.verifierKey;
    saved = (await ledger.latestCheckpoint()).note;
    db.close();
    copyFileSync(join(data, 'writ.sqlite'), join(data, 'good.sqlite'));
  });
  after(() => rmSync(data, { recursive: true, force: true }));

  const restoreGood = () => copyFileSync(join(data, 'good.sqlite'), join(data, 'writ.sqlite'));

  test('a clean ledger: exit 0, with the key derived from <data>/log.key, from WRIT_DATA too', async () => {
    const r = await run(['verify', '--data', data]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /writ\.test\/cli: 300 of 300 entries checked/);
    assert.match(r.stdout, /OK: the log verifies/);
    const viaEnv = await run(['verify'], { WRIT_DATA: data }, true);
    assert.equal(viaEnv.code, 0);
    assert.match(viaEnv.stderr, /\rwrit audit: 300\/300 entries \(100%\)/, 'progress on a terminal');
  });

  test('--json prints one report; --key takes the verifier key or a file holding it; --checkpoint', async () => {
    const r = await run(['verify', '--data', data, '--json', '--key', verifierKey]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.ok, true);
    assert.equal(report.treeSize, 300);
    const keyFile = join(data, 'vkey.txt');
    const cpFile = join(data, 'checkpoint.txt');
    writeFileSync(keyFile, `${verifierKey}\n`);
    writeFileSync(cpFile, saved);
    assert.equal((await run(['verify', '--data', data, '--key', keyFile, '--checkpoint', cpFile])).code, 0);
  });

  test('a tampered ledger: exit 1 naming the first bad index', async () => {
    const db = openSqlite(join(data, 'writ.sqlite'));
    db.prepare(
      "UPDATE ledger_entries SET data = CAST(replace(CAST(data AS TEXT), 'allow', 'allox') AS BLOB) WHERE idx = 42",
    ).run();
    db.close();
    try {
      const r = await run(['verify', '--data', data]);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /TAMPERED: first bad index 42/);
      assert.match(r.stdout, /entry-mismatch: entry 42 was altered/);
      const j = JSON.parse((await run(['verify', '--data', data, '--json'])).stdout);
      assert.equal(j.firstBadIndex, 42);
    } finally {
      restoreGood();
    }
  });

  test('a rolled-back database: exit 1 only with the saved checkpoint', async () => {
    const cpFile = join(data, 'checkpoint.txt');
    writeFileSync(cpFile, saved);
    const db = openSqlite(join(data, 'writ.sqlite'));
    const stores = openSqliteLedgerStores(db);
    const ledger = await Ledger.open({
      stores,
      logSecret: loadSecret({ file: join(data, 'log.key') }),
      pseudonymKey: PSEUDONYM_KEY,
    });
    await ledger.append(usedRecord(1000));
    await ledger.close();
    const newer = (await ledger.latestCheckpoint()).note;
    db.close();
    writeFileSync(cpFile, newer);
    try {
      assert.equal((await run(['verify', '--data', data, '--checkpoint', cpFile])).code, 0, 'the newer copy verifies');
    } finally {
      restoreGood();
    }
    const r = await run(['verify', '--data', data, '--checkpoint', cpFile]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /saved-checkpoint-ahead: the log has 300 entries but a checkpoint saved earlier has 301/);
  });

  test('usage errors exit 2', async () => {
    for (const argv of [
      [],
      ['check'],
      ['verify', '--bogus'],
      ['verify', 'extra'],
      ['verify', '--data', join(data, 'nope')],
      ['verify', '--data', data, '--key', 'not-a-key'],
      ['verify', '--data', data, '--checkpoint', join(data, 'missing.txt')],
    ]) {
      const r = await run(argv);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^writ audit: /);
    }
    const noKey = mkdtempSync(join(tmpdir(), 'writ-audit-nokey-'));
    copyFileSync(join(data, 'writ.sqlite'), join(noKey, 'writ.sqlite'));
    const r = await run(['verify', '--data', noKey]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no verifier key/);
    rmSync(noKey, { recursive: true });
    assert.equal((await run(['--help'])).code, 0);
  });
});

const skip = await pgBackend.skip();
test('writ audit verify --database postgres://... with --key', { skip }, async () => {
  const db = await pgBackend.create();
  try {
    const { ledger, done } = await openLedger(db);
    await Promise.all(Array.from({ length: 50 }, (_, i) => ledger.append(usedRecord(i))));
    const key = ledger.verifierKey;
    await done();
    const r = await run(['verify', ...db.cliArgs, '--key', key, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).treeSize, 50);
    const env = { WRIT_DATABASE_URL: db.cliArgs[1] };
    assert.equal((await run(['verify', '--key', key], env)).code, 0);
  } finally {
    await db.drop();
  }
});
