#!/usr/bin/env node
// Runs the compiled node:test suites of every workspace. Only tests whose TypeScript source still exists are run,
// so a stale file left in dist/ by a deleted test never runs. Extra arguments filter test files by substring.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passthrough = process.argv.slice(2).filter((a) => a.startsWith('--'));

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}

const files = [];
for (const pkg of readdirSync(join(root, 'packages'))) {
  const base = join(root, 'packages', pkg);
  for (const src of walk(join(base, 'test'))) {
    const out = join(base, 'dist', relative(base, src)).replace(/\.ts$/, '.js');
    if (filters.length === 0 || filters.some((f) => src.includes(f))) files.push(out);
  }
}
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const concurrency = process.env.WRIT_TEST_CONCURRENCY ?? '3';
const r = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...passthrough, ...files],
  { stdio: 'inherit', cwd: root },
);
process.exit(r.status ?? 1);
