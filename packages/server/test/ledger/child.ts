/**
 * A ledger process for the crash tests, run as `node child.js <backend args> <mode> <tag>`:
 * - `append`: appends forever from 32 concurrent tasks and prints `<index> <sha256 of the entry>` for each
 *   acknowledged (durable) append, synchronously, so every printed line was acknowledged;
 * - `hold`: starts a batch and spins inside it, holding the sequencer lock, after printing `locked`.
 * The parent kills it with SIGKILL.
 */
import { createHash } from 'node:crypto';
import { writeSync } from 'node:fs';
import { encodeRecord } from '@writ/verifier';
import { Ledger } from '../../src/ledger/ledger.js';
import { LOG_SECRET, openFromArgs, PSEUDONYM_KEY, usedRecord } from './backends.js';

const args = process.argv.slice(2);
const [mode, tag] = args.slice(-2) as [string, string];
const { stores } = await openFromArgs(args.slice(0, -2));

if (mode === 'hold') {
  await stores.log.sequence(() => {
    writeSync(1, 'locked\n');
    for (;;); // hold the lock until killed
  });
}

const ledger = await Ledger.open({ stores, logSecret: LOG_SECRET, pseudonymKey: PSEUDONYM_KEY, checkpointEvery: 200 });
let next = 0;
async function task(): Promise<never> {
  for (;;) {
    const record = usedRecord(next++, tag);
    const { index } = await ledger.append(record);
    writeSync(1, `${index} ${createHash('sha256').update(encodeRecord(record)).digest('hex')}\n`);
  }
}
await Promise.all(Array.from({ length: 32 }, task));
