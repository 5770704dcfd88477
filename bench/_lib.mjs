// Helpers shared by the benchmarks (underscore-prefixed: not a benchmark itself).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The median of a list of numbers (the upper one of an even count). */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A TCP port free on 127.0.0.1 right now. */
export const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const TICK_US = 1e6 / (Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100);

/** The CPU time (user + system, all threads) a process has used so far, in µs (Linux /proc). */
export const cpuMicrosOf = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
};

/** Resolves once the `writ serve` in `child` answers `GET /healthz` at `url` (polled for up to 20 s). */
export async function untilHealthy(child, url) {
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`writ serve at ${url} exited with ${child.exitCode}`);
    if (
      await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    if (i > 400) throw new Error(`writ serve at ${url} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Writes a benchmark's figures to bench/results/<name>.json. */
export const writeResults = (name, data) => {
  mkdirSync(new URL('results/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`results/${name}.json`, import.meta.url), `${JSON.stringify(data, null, 2)}\n`);
};

/**
 * Measures every case `rounds` times, the order alternating from one round to the next (so a slow patch of a shared
 * machine does not always fall on the same cases). `measure(c)` resolves with an autocannon result and the server's
 * CPU µs per request. Returns per case name: requests/s and CPU samples, and the count of failed requests.
 */
export async function measureRounds(cases, rounds, measure) {
  const samples = new Map(cases.map((c) => [c.name, []]));
  const cpuSamples = new Map(cases.map((c) => [c.name, []]));
  const failures = new Map(cases.map((c) => [c.name, 0]));
  for (let r = 0; r < rounds; r++) {
    for (const c of r % 2 ? [...cases].reverse() : cases) {
      const { result, cpuPerRequest } = await measure(c);
      samples.get(c.name).push(result.requests.average);
      cpuSamples.get(c.name).push(cpuPerRequest);
      failures.set(c.name, failures.get(c.name) + result.non2xx + result.errors + result.timeouts);
    }
  }
  return { samples, cpuSamples, failures };
}

/** Prints the cases' medians (req/s, CPU per request, failures) as a Markdown table; returns the medians. */
export function printCases(cases, { samples, cpuSamples, failures }) {
  const m = Object.fromEntries([...samples].map(([k, v]) => [k, median(v)]));
  const cpuM = Object.fromEntries([...cpuSamples].map(([k, v]) => [k, median(v)]));
  console.log('| case | req/s | server CPU µs / request | non-2xx / errors |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const c of cases) {
    const rps = Math.round(m[c.name]).toLocaleString('en');
    console.log(`| ${c.name} | ${rps} | ${cpuM[c.name].toFixed(1)} | ${failures.get(c.name)} |`);
  }
  return { m, cpuM };
}

/** Prints `[name, req/s ratio, CPU ratio, target or null]` rows as a Markdown table with a verdict per target. */
export function printRatios(ratios) {
  console.log('\n| ratio | req/s | CPU / request (inverse) | target | |');
  console.log('| --- | ---: | ---: | ---: | --- |');
  for (const [name, v, c, target] of ratios) {
    const verdict = target === null ? '| — | |' : `| >= ${target}x | ${v >= target ? 'met' : 'MISSED'} |`;
    console.log(`| ${name} | ${v.toFixed(2)}x | ${c.toFixed(2)}x ${verdict}`);
  }
}
