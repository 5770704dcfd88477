import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createOpaqueToken, lookupHash, parseOpaqueToken } from '../src/index.js';
import { schedule } from './helpers/core.js';

test('opaque tokens: prefix, 256 random bits, checksum; parse recognises the kind', () => {
  const at = createOpaqueToken('at');
  const rt = createOpaqueToken('rt');
  assert.match(at, /^writ_at_[0-9A-Za-z]{49}$/);
  assert.match(rt, /^writ_rt_[0-9A-Za-z]{49}$/);
  assert.equal(parseOpaqueToken(at), 'at');
  assert.equal(parseOpaqueToken(rt), 'rt');
  assert.notEqual(createOpaqueToken('at'), at);
  assert.throws(() => createOpaqueToken('xx' as 'at'), { code: 'ERR_INVALID_ARGUMENT' });
});

test('opaque tokens: any single-character typo, truncation or swapped prefix is rejected offline', () => {
  const token = createOpaqueToken('rt');
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_';
  fc.assert(
    fc.property(fc.nat(token.length - 1), fc.constantFrom(...alphabet), (i, c) => {
      fc.pre(token[i] !== c);
      const typo = token.slice(0, i) + c + token.slice(i + 1);
      assert.throws(() => parseOpaqueToken(typo), { code: 'ERR_OPAQUE_TOKEN_INVALID' });
    }),
  );
  for (const bad of [token.slice(0, -1), `${token}0`, token.replace('writ_rt_', 'writ_at_'), '', null, 42]) {
    assert.throws(() => parseOpaqueToken(bad), { code: 'ERR_OPAQUE_TOKEN_INVALID' });
  }
});

test('lookupHash is HMAC-SHA256 under the lookup key: stable, keyed, never the token', () => {
  const token = createOpaqueToken('at');
  const key = schedule().lookupKey();
  const h = lookupHash(key, token);
  assert.match(h, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(lookupHash(key, token), h);
  assert.notEqual(lookupHash(schedule().pseudonymKey(), token), h);
  assert.notEqual(lookupHash(key, createOpaqueToken('at')), h);
});
