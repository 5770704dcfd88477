/**
 * Crash cases run against real child processes: one is SIGKILLed while appending under load, or while it holds
 * the sequencer lock, and the parent checks that every index the child acknowledged is still there, byte for byte.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Ledger } from '../../src/ledger/ledger.js';
import { type TestDb, usedRecord } from './backends.js';

const CHILD = new URL('./child.js', import.meta.url).pathname;

/** Starts `child.js`; `lines` collects its complete output lines (a line cut by the kill is dropped). */
function start(
  db: TestDb,
  mode: 'append' | 'hold',
  tag: string,
): { child: ChildProcess; lines: string[]; exited: Promise<void> } {
  const child = spawn(process.execPath, [CHILD, ...db.childArgs, mode, tag], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buf = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = Promise.all([once(child, 'exit'), once(child.stdout!, 'end')]).then(([[code, signal]]) => {
    if (signal !== 'SIGKILL') throw new Error(`child exited with ${code ?? signal}: ${stderr}`);
  });
  exited.catch(() => {}); // awaited by the caller
  return { child, lines, exited };
}

async function until(what: string, ready: () => boolean, exited: Promise<void>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  let failed: unknown;
  exited.catch((e) => {
    failed = e;
  });
  while (!ready()) {
    if (failed) throw failed;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Kills an appending child `killAfterMs` after its first acknowledgement, then checks every acknowledged entry. */
export async function crashAndVerify(
  db: TestDb,
  acked: Map<number, string>,
  tag: string,
  killAfterMs: number,
): Promise<void> {
  const { child, lines, exited } = start(db, 'append', tag);
  await until('the first acknowledgement', () => lines.length > 0, exited);
  await sleep(killAfterMs);
  child.kill('SIGKILL');
  await exited;
  for (const line of lines) {
    const [index, hash] = line.split(' ') as [string, string];
    assert.ok(!acked.has(Number(index)), `index ${index} acknowledged twice`);
    acked.set(Number(index), hash);
  }
  const c = await db.open();
  try {
    const max = Math.max(...acked.keys());
    assert.ok((await c.stores.log.readTree()).size > max, 'the tree covers every acknowledged index');
    const stored = new Map<number, string>();
    for (let i = 0; i <= max; i += 1000) {
      for (const e of await c.stores.log.readEntries(i, i + 1000)) {
        stored.set(e.index, createHash('sha256').update(e.data).digest('hex'));
      }
    }
    for (const [i, hash] of acked) assert.equal(stored.get(i), hash, `acknowledged entry ${i}`);
  } finally {
    await c.close();
  }
}

/**
 * A child takes the sequencer lock and spins inside its batch while this process appends; the appends wait until
 * the child is killed and then go through: the lock died with the child's transaction.
 */
export async function holdLockAndKill(db: TestDb, ledger: Ledger): Promise<void> {
  const { child, lines, exited } = start(db, 'hold', 'h');
  await until('the child to take the lock', () => lines.includes('locked'), exited);
  let done = 0;
  const appends = Array.from({ length: 20 }, async (_, i) => {
    const r = await ledger.append(usedRecord(i, 'w'));
    done++;
    return r;
  });
  await sleep(500);
  assert.equal(done, 0, 'appends wait while the lock is held');
  const killed = Date.now();
  child.kill('SIGKILL');
  await exited;
  const results = await Promise.all(appends);
  assert.ok(Date.now() - killed < 3000, 'taken over within seconds');
  assert.deepEqual(
    results.map((r) => r.index).sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, i) => i),
  );
}
