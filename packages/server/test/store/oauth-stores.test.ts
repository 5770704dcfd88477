import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ChangeFeed } from '../../src/server/change-feed.js';
import type { ClientRecord } from '../../src/store/clients.js';
import { type OAuthStores, openPgOAuthStores, openSqliteOAuthStores } from '../../src/store/oauth.js';
import { openSqlite } from '../../src/store/sqlite/db.js';
import type { StoredToken } from '../../src/store/tokens.js';
import { pgPoolForTest, postgresSkipReason } from '../helpers/postgres.js';

function client(id: string): ClientRecord {
  return {
    clientId: id,
    name: `client ${id}`,
    secretHash: 'scrypt$x',
    authMethod: 'client_secret_basic',
    jwks: null,
    grantTypes: ['client_credentials'],
    scopes: ['read', 'write'],
    audiences: ['https://api.example'],
    authorizationDetailsTypes: [],
    dpopBound: false,
    accessTokenFormat: 'jwt',
    accessTokenTtl: null,
    createdAt: 1000,
    updatedAt: 1000,
  };
}

function token(jti: string, over: Partial<StoredToken> = {}): StoredToken {
  return {
    jti,
    hash: randomBytes(32),
    kind: 'refresh',
    clientId: 'c1',
    subject: 's1',
    familyId: null,
    parentJti: null,
    claims: { scope: 'read' },
    expiresAt: 2000,
    status: 'active',
    ...over,
  };
}

/** The same behaviour asserted on every backend. */
function conformance(open: () => Promise<{ stores: OAuthStores; close(): Promise<void> }>): void {
  test('clients: create, get, list, update, remove; duplicate ids refused', async () => {
    const { stores, close } = await open();
    try {
      await stores.clients.create(client('c1'));
      await assert.rejects(stores.clients.create(client('c1')), { code: 'ERR_INVALID_REQUEST' });
      await stores.clients.create(client('c2'));
      assert.deepEqual(await stores.clients.get('c1'), client('c1'));
      assert.equal(await stores.clients.get('nope'), undefined);
      assert.deepEqual(
        (await stores.clients.list()).map((c) => c.clientId),
        ['c1', 'c2'],
      );
      const u = await stores.clients.update('c1', { scopes: ['read'], dpopBound: true }, 2000);
      assert.deepEqual(u?.scopes, ['read']);
      assert.equal(u?.dpopBound, true);
      assert.equal(u?.updatedAt, 2000);
      assert.deepEqual(await stores.clients.get('c1'), u);
      assert.equal(await stores.clients.update('nope', { name: 'x' }, 1), undefined);
      assert.equal(await stores.clients.remove('c2'), true);
      assert.equal(await stores.clients.remove('c2'), false);
    } finally {
      await close();
    }
  });

  test('tokens: spend is single-use, lineage and families are found, expired rows purge', async () => {
    const { stores, close } = await open();
    try {
      const root = token('root', { kind: 'access', hash: null, claims: {} });
      const child = token('child', { parentJti: 'root', kind: 'access', hash: null });
      const grandchild = token('grandchild', { parentJti: 'child', kind: 'access', hash: null });
      const r1 = token('r1', { familyId: 'f1' });
      const r2 = token('r2', { familyId: 'f1', expiresAt: 500 });
      for (const t of [root, child, grandchild, r1, r2]) await stores.tokens.put(t);
      assert.deepEqual(await stores.tokens.getByHash(r1.hash!), r1);
      assert.deepEqual(await stores.tokens.getByJti('child'), child);
      assert.equal(await stores.tokens.spend(r1.hash!), true);
      assert.equal(await stores.tokens.spend(r1.hash!), false, 'a second spend is a reuse');
      assert.equal((await stores.tokens.getByHash(r1.hash!))?.status, 'spent');
      assert.deepEqual((await stores.tokens.descendants('root')).sort(), ['child', 'grandchild']);
      assert.deepEqual((await stores.tokens.family('f1')).sort(), ['r1', 'r2']);
      assert.equal(await stores.tokens.setRevoked(['r1', 'r2', 'missing']), 2);
      assert.equal(await stores.tokens.setRevoked(['r1']), 0);
      assert.equal(await stores.tokens.spend(r2.hash!), false, 'revoked tokens cannot be spent');
      await stores.tokens.put(token('other-client', { clientId: 'c2', subject: 's2' }));
      assert.equal(await stores.tokens.setRevokedWhere('subject', 's1'), 3, 'root, child, grandchild');
      assert.equal(await stores.tokens.setRevokedWhere('clientId', 'c2'), 1);
      assert.equal(await stores.tokens.setRevokedWhere('clientId', 'c2'), 0);
      assert.equal(await stores.tokens.purgeExpired(1000), 1);
      assert.equal(await stores.tokens.getByJti('r2'), undefined);
    } finally {
      await close();
    }
  });

  test('changes: ordered sequence numbers, since(), active revocations; settings round-trip', async () => {
    const { stores, close } = await open();
    try {
      assert.equal(await stores.changes.latestSeq(), 0);
      const a = await stores.changes.append(
        [
          { kind: 'revocation', data: { kind: 'jti', value: 'j1', expires_at: 100 } },
          { kind: 'revocation', data: { kind: 'jti', value: 'j2', expires_at: 300 } },
        ],
        5,
      );
      const b = await stores.changes.append([{ kind: 'keys', data: { rotationOffset: 1 } }], 6);
      assert.deepEqual(
        [...a, ...b].map((c) => c.seq),
        [1, 2, 3],
      );
      assert.equal(await stores.changes.latestSeq(), 3);
      assert.deepEqual(
        (await stores.changes.since(1, 10)).map((c) => c.seq),
        [2, 3],
      );
      assert.deepEqual(
        (await stores.changes.since(0, 1)).map((c) => c.data.value),
        ['j1'],
      );
      assert.deepEqual(
        (await stores.changes.activeRevocations(200)).map((c) => c.data.value),
        ['j2'],
      );
      assert.equal(b[0]?.createdAt, 6);
      assert.deepEqual(
        (await stores.changes.revocationsBetween(0, 3, 0, 10)).map((c) => c.seq),
        [1, 2],
      );
      assert.deepEqual(
        (await stores.changes.revocationsBetween(0, 1, 0, 10)).map((c) => c.seq),
        [1],
        'bounded above',
      );
      assert.deepEqual(
        (await stores.changes.revocationsBetween(0, 3, 200, 10)).map((c) => c.seq),
        [2],
        'expired ones left out',
      );
      assert.equal(await stores.settings.get('x'), undefined);
      await stores.settings.set('x', { a: [1, 2] });
      await stores.settings.set('x', { a: [3] });
      assert.deepEqual(await stores.settings.get('x'), { a: [3] });
      assert.equal(await stores.settings.setIfAbsent('y', 1), true);
      assert.equal(await stores.settings.setIfAbsent('y', 2), false, 'only the first writer wins');
      assert.equal(await stores.settings.get('y'), 1);
    } finally {
      await close();
    }
  });

  test('changes: a follower of since() misses none under concurrent appends (seq order is commit order)', async () => {
    const { stores, close } = await open();
    const seen: number[] = [];
    const feed = new ChangeFeed({ store: stores.changes, pollMs: 1, apply: (c) => void seen.push(c.seq) });
    try {
      await feed.start(0);
      // Many writers at once, so a change given a lower seq can commit after one with a higher seq unless the
      // store orders them; the feed polls throughout and must still apply every one.
      const appended = await Promise.all(
        Array.from({ length: 400 }, (_, i) =>
          stores.changes.append([{ kind: 'revocation', data: { kind: 'jti', value: `c${i}`, expires_at: 1e10 } }], 1),
        ),
      );
      await feed.catchUp();
      const all = appended.flat().map((c) => c.seq);
      assert.equal(seen.length, all.length, `follower applied ${seen.length} of ${all.length} changes`);
      assert.deepEqual(
        seen,
        [...all].sort((a, b) => a - b),
      );
    } finally {
      await feed.close();
      await close();
    }
  });
}

describe('OAuth stores on SQLite', () => {
  conformance(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'writ-oauth-'));
    const db = openSqlite(join(dir, 'writ.sqlite'));
    return {
      stores: openSqliteOAuthStores(db),
      async close() {
        db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});

describe('OAuth stores on PostgreSQL', async () => {
  const skip = await postgresSkipReason();
  if (skip) {
    test('PostgreSQL', { skip }, () => {});
    return;
  }
  conformance(async () => {
    const { pool, drop } = await pgPoolForTest();
    return { stores: await openPgOAuthStores(pool), close: drop };
  });
});
