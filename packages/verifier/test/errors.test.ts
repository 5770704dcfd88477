import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERROR_CODES, WritError } from '../src/index.js';

test('every error code maps to an OAuth error and an HTTP status', () => {
  for (const [code, s] of Object.entries(ERROR_CODES)) {
    const e = new WritError(code as keyof typeof ERROR_CODES);
    assert.equal(e.code, code);
    assert.equal(e.status, s.status);
    assert.ok(e.status >= 400 && e.status < 600);
  }
});
