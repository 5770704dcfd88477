/**
 * Tamper tests: a ledger is built once per backend, then each case restores it from a backup, tampers with the
 * database directly, and asserts that the audit catches it and names what is wrong, and where.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ed25519NoteSigner, signCheckpoint } from '@writ/verifier';
import type { AuditProblemKind } from '../../src/ledger/audit.js';
import { type Backend, ORIGIN, pgBackend, sqliteBackend, type TestDb, usedRecord } from './backends.js';
import { audit, openLedger } from './conformance.js';

const TABLES = ['ledger_entries', 'ledger_tiles', 'ledger_tree', 'ledger_checkpoints'];
const backup = (prefix: string) => TABLES.map((t) => `CREATE TABLE ${prefix}_${t} AS SELECT * FROM ${t};`).join('\n');
const restore = (prefix: string) =>
  TABLES.map((t) => `DELETE FROM ${t}; INSERT INTO ${t} SELECT * FROM ${prefix}_${t};`).join('\n');

async function tamperSuite(backend: Backend): Promise<void> {
  const skip = await backend.skip();
  describe(`audit catches tampering: ${backend.name}`, { skip }, () => {
    let db: TestDb;
    let saved: string; // the checkpoint an auditor saved at the end

    before(async () => {
      db = await backend.create();
      const { ledger, done } = await openLedger(db, { checkpointEvery: 100 });
      for (let i = 0; i < 700; i += 50) {
        if (i === 400) await db.sql(backup('old')); // an older copy of the database
        await Promise.all(Array.from({ length: 50 }, (_, k) => ledger.append(usedRecord(i + k))));
      }
      await ledger.close();
      saved = (await ledger.latestCheckpoint()).note;
      await done();
      await db.sql(backup('bak'));
    });
    after(() => db?.drop());

    /** Restores the good copy, applies `sql`, audits, and returns the report. */
    async function tampered(sql: string, withSaved = false) {
      await db.sql(restore('bak'));
      if (sql) await db.sql(sql);
      return audit(db, withSaved ? saved : undefined);
    }

    /** The report names `kind` (at entry index or checkpoint size `where`, if given). */
    function expect(report: Awaited<ReturnType<typeof tampered>>, kind: AuditProblemKind, where?: number) {
      assert.equal(report.ok, false);
      const p = report.problems.find((x) => x.kind === kind);
      assert.ok(p, `${kind} in ${JSON.stringify(report.problems)}`);
      if (where !== undefined) assert.equal(p.index ?? p.size, where, JSON.stringify(report.problems));
    }

    test('the untouched ledger verifies, with its saved checkpoint', async () => {
      const report = await tampered('', true);
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.equal(report.treeSize, 700);
      assert.ok(report.checkpointsChecked >= 8); // 0, about every 100, 700 (batches vary)
      assert.equal(report.latestCheckpoint?.size, 700);
    });

    test('one byte of an entry changed', async () => {
      const r = await tampered(`UPDATE ledger_entries SET data = ${backend.setByte('data', 20, 0x58)} WHERE idx = 123`);
      expect(r, 'entry-mismatch', 123);
      assert.ok(r.problems.some((p) => p.kind === 'checkpoint-root' && p.size! > 123 && p.size! <= 200));
      assert.equal(r.firstBadIndex, 123);
    });

    test('an entry deleted', async () => {
      const r = await tampered('DELETE FROM ledger_entries WHERE idx = 200');
      expect(r, 'entry-missing', 200);
      assert.equal(r.firstBadIndex, 200);
    });

    test('two entries swapped', async () => {
      const r = await tampered(
        'UPDATE ledger_entries SET idx = -1 WHERE idx = 10; UPDATE ledger_entries SET idx = 10 WHERE idx = 20; ' +
          'UPDATE ledger_entries SET idx = 20 WHERE idx = -1',
      );
      expect(r, 'entry-mismatch', 10);
      assert.equal(r.firstBadIndex, 10);
    });

    test('a stored node hash changed (level-1 tile, and a leaf hash)', async () => {
      const r1 = await tampered(`UPDATE ledger_tiles SET hashes = ${backend.setByte('hashes', 5, 0)} WHERE level = 1`);
      expect(r1, 'tile-mismatch', 0);
      assert.ok(!r1.problems.some((p) => p.kind === 'checkpoint-root'), 'the entries still match the checkpoints');
      const r2 = await tampered(
        `UPDATE ledger_tiles SET hashes = ${backend.setByte('hashes', 50 * 32, 0)} WHERE level = 0 AND idx = 0`,
      );
      expect(r2, 'tile-mismatch', 50);
      expect(r2, 'checkpoint-inconsistent');
      assert.equal(r2.firstBadIndex, 50);
    });

    test('the log truncated', async () => {
      const r = await tampered('DELETE FROM ledger_entries WHERE idx >= 650');
      expect(r, 'entry-missing', 650);
    });

    test('an entry slipped in beyond the tree', async () => {
      const r = await tampered(`INSERT INTO ledger_entries SELECT 700, data FROM ledger_entries WHERE idx = 0`);
      expect(r, 'entry-beyond-tree', 700);
    });

    test('a checkpoint forged with another key', async () => {
      const other = ed25519NoteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
      const note = signCheckpoint({ origin: ORIGIN, size: 650, root: Buffer.alloc(32, 1), extensions: [] }, other);
      const r = await tampered(`INSERT INTO ledger_checkpoints VALUES (650, '${note}', 0)`);
      expect(r, 'checkpoint-signature', 650);
      const r2 = await tampered(
        `UPDATE ledger_checkpoints SET note = '${note.replace('\n650\n', '\n700\n')}' WHERE size = 700`,
      );
      expect(r2, 'checkpoint-signature', 700);
    });

    test('an older copy of the database restored: caught only with the saved checkpoint', async () => {
      const clean = await tampered(restore('old'));
      assert.equal(clean.ok, true, 'an old copy is a consistent log by itself');
      assert.equal(clean.treeSize, 400);
      const r = await tampered(restore('old'), true);
      expect(r, 'saved-checkpoint-ahead', 700);
    });
  });
}

await tamperSuite(sqliteBackend);
await tamperSuite(pgBackend);
