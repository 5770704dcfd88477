/**
 * The official test vectors in the repository's `vectors/` folder (a copy of `../shared/vectors`). A missing folder
 * fails the test loudly instead of skipping it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Absolute path of `vectors/<rel>` (from `packages/verifier/dist/test/helpers/`). */
export function vectorPath(rel: string): string {
  return join(new URL('../../../../../vectors/', import.meta.url).pathname, rel);
}

/** Parses a JSON vector file. */
export function readVector<T = unknown>(rel: string): T {
  return JSON.parse(readFileSync(vectorPath(rel), 'utf8')) as T;
}

/** Every `.json` file below `vectors/<rel>`, as paths relative to `vectors/`. */
export function vectorFiles(rel: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(vectorPath(rel)).sort()) {
    const sub = join(rel, name);
    if (statSync(vectorPath(sub)).isDirectory()) out.push(...vectorFiles(sub));
    else if (name.endsWith('.json')) out.push(sub);
  }
  return out;
}
