/**
 * Forward-auth's compiled pieces against their plain definitions: the path normaliser's fast path against `new URL`,
 * and the compiled route table against a first-match walk over the rules as configured.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WritError } from '@writ/verifier';
import fc from 'fast-check';
import type { RouteRule } from '../../src/server/config.js';
import { normalisePath, RouteTable } from '../../src/server/routes/forward-auth.js';

/** The definition: merge slashes, then let the WHATWG URL parser resolve dot segments and escape. */
function reference(target: string): string {
  const q = target.indexOf('?');
  const raw = (q === -1 ? target : target.slice(0, q)).replace(/\/{2,}/g, '/');
  if (!raw.startsWith('/')) throw new WritError('ERR_INVALID_REQUEST');
  try {
    return new URL(raw, 'http://x').pathname;
  } catch {
    throw new WritError('ERR_INVALID_REQUEST');
  }
}

const outcome = (f: () => string) => {
  try {
    return f();
  } catch (e) {
    return `error ${(e as WritError).code}`;
  }
};

test('normalisePath: the same path as the URL parser, for any target', () => {
  const chars = [
    '/',
    '/',
    '.',
    '.',
    'a',
    'B',
    '2',
    'e',
    '%',
    '\\',
    ' ',
    '?',
    ';',
    '~',
    '@',
    ':',
    '"',
    'é',
    '#',
    '+',
    "'",
    '(',
    '!',
    '$',
    '&',
    '*',
    ',',
    '=',
    '`',
    '{',
    '|',
    '^',
  ];
  const target = fc.array(fc.constantFrom(...chars), { maxLength: 24 }).map((a) => a.join(''));
  fc.assert(
    fc.property(
      fc.oneof(
        target,
        target.map((t) => `/${t}`),
      ),
      (t) => {
        assert.equal(
          outcome(() => normalisePath(t)),
          outcome(() => reference(t)),
          JSON.stringify(t),
        );
      },
    ),
    { numRuns: 5000 },
  );
  for (const t of ['/', '/api/orders/42?x=1', '/api/./x', '/api/../admin', '/a//b', '/%2e%2e/admin', '/a b', '/.a']) {
    assert.equal(
      outcome(() => normalisePath(t)),
      outcome(() => reference(t)),
      t,
    );
  }
});

/** The definition: the first rule whose host (with or without the port), prefix and method match. */
function firstMatch(rules: readonly RouteRule[], host: string, path: string, method: string): RouteRule | undefined {
  const bare = host.replace(/:\d+$/, '');
  return rules.find((r) => {
    if (r.host !== undefined && r.host.toLowerCase() !== bare && r.host.toLowerCase() !== host) return false;
    const prefix = r.pathPrefix ?? '/';
    const dir = prefix.endsWith('/') ? prefix : `${prefix}/`;
    if (prefix !== '/' && path !== prefix && !path.startsWith(dir)) return false;
    return !r.methods || r.methods.includes(method);
  });
}

test('RouteTable: the first matching rule, as a walk over the configured rules finds it', () => {
  const rules: RouteRule[] = [
    { host: 'api.example', pathPrefix: '/health', public: true },
    { pathPrefix: '/metrics', audience: 'any-host' },
    { host: 'API.example', pathPrefix: '/orders', methods: ['GET', 'HEAD'], audience: 'a', scopes: ['read'] },
    { host: 'api.example:8443', pathPrefix: '/orders', audience: 'tls', scopes: ['write'] },
    { host: 'api.example', pathPrefix: '/orders/', audience: 'a', scopes: ['write'] },
    { host: '[::1]', pathPrefix: '/', audience: 'v6' },
    { host: 'other.example', audience: 'other' },
    { audience: 'fallback' },
  ];
  const table = new RouteTable(rules);
  const hosts = ['api.example', 'api.example:8443', 'api.example:80', 'other.example:1', '[::1]:8080', '[::1]', 'x.y'];
  const paths = ['/', '/health', '/healthz', '/health/x', '/metrics', '/orders', '/orders/1', '/ordersx', '/other'];
  for (const host of hosts) {
    for (const path of paths) {
      for (const method of ['GET', 'POST', 'HEAD']) {
        const want = firstMatch(rules, host, path, method);
        const got = table.match(host, path, method);
        const where = `${method} ${host}${path}`;
        assert.deepEqual(
          got && { ...got },
          want && { audience: want.audience ?? '', scopes: want.scopes ?? [], public: want.public === true },
          where,
        );
      }
    }
  }
  assert.equal(new RouteTable([{ host: 'api.example', audience: 'a' }]).match('b.example', '/', 'GET'), undefined);
});
