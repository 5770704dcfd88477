import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { UsageContextCache, usageContext } from '../../src/gateway/index.js';

test('usage contexts: SHA-256 of the request line, remembered per method and URL, the same with or without the cache', () => {
  const url = 'https://api.example/orders/1?x=1';
  const expected = createHash('sha256').update(`GET ${url}`).digest('base64url');
  assert.equal(usageContext('GET', url), expected);
  const cache = new UsageContextCache();
  assert.equal(cache.get('GET', url), expected);
  assert.equal(cache.get('GET', url), expected, 'a hit gives the same context');
  assert.notEqual(cache.get('POST', url), expected, 'the method is part of it');
  const long = `https://api.example/${'a'.repeat(600)}`;
  assert.equal(cache.get('GET', long), usageContext('GET', long), 'long URLs are hashed, not kept');
  for (let i = 0; i < 5000; i++) assert.equal(cache.get('GET', `${url}&i=${i}`), usageContext('GET', `${url}&i=${i}`));
  for (let m = 0; m < 40; m++) assert.equal(cache.get(`M${m}`, url), usageContext(`M${m}`, url));
});
