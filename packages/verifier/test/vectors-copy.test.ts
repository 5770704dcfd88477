import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { vectorFiles, vectorPath } from './helpers/vectors.js';

// The repository carries a copy of the official vectors so that a clone anywhere can run its tests; where the
// shared originals sit beside the repository (../shared/vectors), the copy must be byte-identical to them.
const shared = join(vectorPath(''), '..', '..', 'shared', 'vectors');

test('vectors/ is an exact copy of ../shared/vectors', {
  skip: existsSync(shared) ? false : `${shared} not present`,
}, () => {
  const files = [...vectorFiles('merkle'), ...vectorFiles('wycheproof'), ...vectorFiles('signed-note')];
  assert.ok(files.length > 500);
  for (const f of files) {
    const original = join(shared, f);
    assert.ok(existsSync(original), `${f} is not in ../shared/vectors`);
    assert.deepEqual(readFileSync(vectorPath(f)), readFileSync(original), f);
  }
});
