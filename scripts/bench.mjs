#!/usr/bin/env node
// Runs the benchmarks in bench/ (all, or those named: `npm run bench -- core ledger`). Each prints a Markdown table
// of medians and ratios to a baseline measured in the same run, and writes JSON to bench/results/.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const wanted = process.argv.slice(2);
const all = readdirSync(join(root, 'bench'))
  .filter((f) => f.endsWith('.mjs') && !f.startsWith('_'))
  .map((f) => f.replace(/\.mjs$/, ''));
const run = wanted.length ? wanted : all;
let failed = 0;
for (const name of run) {
  if (!all.includes(name)) {
    console.error(`unknown benchmark ${name}; have: ${all.join(', ')}`);
    process.exit(2);
  }
  console.log(`\n## bench/${name}.mjs\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(root, 'bench', `${name}.mjs`)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
