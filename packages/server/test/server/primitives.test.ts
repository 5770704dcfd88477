import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  generateClientSecret,
  hashClientSecret,
  SecretVerifier,
  verifyClientSecret,
} from '../../src/server/client-secret.js';
import { configWarnings, loadConfig } from '../../src/server/config.js';
import { RateLimiter } from '../../src/server/rate-limit.js';

test('client secrets: hashed with scrypt, verified, never stored or cached in plaintext', async () => {
  const secret = generateClientSecret();
  assert.match(secret, /^writ_cs_[A-Za-z0-9_-]{43}$/);
  const stored = await hashClientSecret(secret);
  assert.match(stored, /^scrypt\$15\$8\$1\$/);
  assert.ok(!stored.includes(secret.slice(8)));
  assert.equal(await verifyClientSecret(secret, stored), true);
  assert.equal(await verifyClientSecret(`${secret}x`, stored), false);
  assert.equal(await verifyClientSecret(secret, 'scrypt$99$8$1$AAAAAAAAAAAAAAAAAAAAAA$x'), false);
  assert.equal(await verifyClientSecret(secret, 'plain'), false);

  let now = 0;
  const v = new SecretVerifier({ maxEntries: 2, ttlMs: 1000, now: () => now });
  assert.equal(await v.verify('c', secret, stored), true);
  assert.equal(await v.verify('c', 'wrong', stored), false);
  assert.equal(v.size, 1, 'only successes are remembered');
  assert.equal(await v.verify('other-client', secret, stored), true, 'the cache key includes the client id');
  assert.equal(await v.verify('third', secret, stored), true);
  assert.equal(v.size, 2, 'bounded by maxEntries');
  now = 5000;
  assert.equal(await v.verify('c', secret, stored), true, 'expired entries are verified again');
  const rotated = await hashClientSecret(generateClientSecret());
  assert.equal(await v.verify('c', secret, rotated), false, 'a rotated secret invalidates the cached success');
});

test('client secrets: concurrent verifications of the same credentials share one slow check', async () => {
  let runs = 0;
  const check = async (secret: string, stored: string) => {
    runs++;
    await new Promise((r) => setTimeout(r, 10));
    return secret === 'right' && stored === 'hash';
  };
  const v = new SecretVerifier({ check });
  const many = await Promise.all(Array.from({ length: 20 }, () => v.verify('c', 'right', 'hash')));
  assert.deepEqual(new Set(many), new Set([true]));
  assert.equal(runs, 1, 'one check for 20 concurrent requests');
  assert.equal(await v.verify('c', 'right', 'hash'), true);
  assert.equal(runs, 1, 'then remembered');
  const wrong = await Promise.all(Array.from({ length: 5 }, () => v.verify('c', 'wrong', 'hash')));
  assert.deepEqual(new Set(wrong), new Set([false]));
  assert.equal(runs, 2, 'a wrong secret shares one check too');
  assert.equal(await v.verify('c', 'wrong', 'hash'), false);
  assert.equal(runs, 3, 'a failure is not remembered');
  assert.equal(await v.verify('d', 'right', 'hash'), true);
  assert.equal(runs, 4, 'other credentials get their own check');
});

test('rate limiter: token bucket per key, bounded key table, retry-after in seconds', () => {
  let now = 0;
  const rl = new RateLimiter({ rate: 2, burst: 2, maxKeys: 3, now: () => now });
  assert.equal(rl.take('a'), 0);
  assert.equal(rl.take('a'), 0);
  assert.equal(rl.take('a'), 1);
  now = 500;
  assert.equal(rl.take('a'), 0, 'refills at the configured rate');
  for (const k of ['b', 'c', 'd', 'e']) rl.take(k);
  assert.equal(rl.size, 3);
  assert.throws(() => new RateLimiter({ rate: 0 }), RangeError);
});

test('config: defaults, file, env and flags merge in order; unknown keys and bad values are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'writ-cfg-'));
  const base = loadConfig({ data: dir }, {});
  assert.equal(base.port, 8080);
  assert.equal(base.issuer, 'http://127.0.0.1:8080');
  assert.ok(Object.isFrozen(base.tokens));
  writeFileSync(join(dir, 'writ.json'), JSON.stringify({ port: 9000, tokens: { accessTokenTtl: 120 } }));
  const fromFile = loadConfig({ data: dir }, {});
  assert.equal(fromFile.port, 9000);
  assert.equal(fromFile.tokens.accessTokenTtl, 120);
  assert.equal(fromFile.tokens.maxLifetime, 3600, 'nested defaults survive a partial section');
  assert.equal(loadConfig({ data: dir }, { WRIT_PORT: '9100' }).port, 9100, 'env beats the file');
  assert.equal(loadConfig({ data: dir, port: 9200 }, { WRIT_PORT: '9100' }).port, 9200, 'flags beat env');
  assert.throws(() => loadConfig({ data: dir }, { WRIT_PORT: 'x' }), { code: 'ERR_CONFIG_INVALID' });
  writeFileSync(join(dir, 'writ.json'), JSON.stringify({ prot: 1 }));
  assert.throws(
    () => loadConfig({ data: dir }, {}),
    (e: { code: string; detail: string }) => {
      assert.equal(e.code, 'ERR_CONFIG_INVALID');
      assert.match(e.detail, /prot/);
      return true;
    },
  );
  writeFileSync(join(dir, 'writ.json'), '{"port": 1, "port": 2}');
  assert.throws(() => loadConfig({ data: dir }, {}), { code: 'ERR_CONFIG_INVALID' });
  writeFileSync(join(dir, 'writ.json'), JSON.stringify({ tokens: { accessTokenTtl: 7200 } }));
  assert.throws(() => loadConfig({ data: dir }, {}), { code: 'ERR_CONFIG_INVALID' });
  writeFileSync(join(dir, 'writ.json'), '{}');
  assert.deepEqual(configWarnings(loadConfig({ data: dir }, {})), []);
  assert.equal(configWarnings(loadConfig({ data: dir, host: '0.0.0.0' }, {})).length, 1, 'plain HTTP off loopback');
});
