import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as errorsModule from '../src/core/errors.js';
import * as api from '../src/index.js';
import { ERROR_CODES, isWritError, toWritError, WritError } from '../src/index.js';
import { readRepoFile } from './helpers/core.js';

test('every error code maps to an OAuth error and an HTTP status', () => {
  for (const [code, s] of Object.entries(ERROR_CODES)) {
    const e = new WritError(code as keyof typeof ERROR_CODES);
    assert.equal(e.code, code);
    assert.equal(e.status, s.status);
    assert.ok(e.status >= 400 && e.status < 600);
  }
});

test('the codes in ERROR_CODES, the exported names and docs/errors.md agree', () => {
  // Exports: the package exports the one catalogue and its helpers, not a copy.
  assert.equal(api.ERROR_CODES, errorsModule.ERROR_CODES);
  assert.equal(api.WritError, errorsModule.WritError);
  assert.equal(api.isWritError, errorsModule.isWritError);
  assert.equal(api.toWritError, errorsModule.toWritError);
  // Docs: one row per code, with the same OAuth error and status.
  const rows = new Map<string, { error: string; status: number }>();
  for (const line of readRepoFile('docs/errors.md').split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const code = /^`(ERR_[A-Z0-9_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (code === undefined) continue;
    assert.ok(!rows.has(code), `${code} documented twice`);
    assert.ok((cells[4] ?? '').length > 0, `${code} has no meaning`);
    rows.set(code, { error: (cells[2] ?? '').replaceAll('`', ''), status: Number(cells[3]) });
  }
  assert.deepEqual([...rows.keys()].sort(), Object.keys(ERROR_CODES).sort());
  for (const [code, s] of Object.entries(ERROR_CODES)) {
    assert.deepEqual(rows.get(code), { error: s.error, status: s.status }, code);
  }
});

test('errors never leak detail on the wire; unexpected errors become ERR_INTERNAL', () => {
  const e = new WritError('ERR_SIGNATURE_INVALID', { detail: 'bit 7 of s differs' });
  assert.deepEqual(JSON.parse(JSON.stringify(e)), { error: 'invalid_token', error_description: e.description });
  const wrapped = toWritError(new TypeError('boom'));
  assert.ok(isWritError(wrapped, 'ERR_INTERNAL'));
  assert.equal(toWritError(e), e);
});
