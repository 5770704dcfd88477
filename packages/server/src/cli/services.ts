/**
 * Running a command against a node's data: open the services (as the server would), do the job, close them —
 * whether or not a `writ serve` runs on the same data (the ledger's sequencer lock keeps them from forking it).
 * @module
 */
import type { WritConfig } from '../server/config.js';
import { createLogger, Services } from '../server/services.js';
import type { CliIo } from './io.js';

/** Opens the services for `config`, runs `job`, and closes them. */
export async function withServices<T>(config: WritConfig, io: CliIo, job: (svc: Services) => Promise<T>): Promise<T> {
  const svc = await Services.open(config, { role: 'cli', env: io.env, log: createLogger('warn') });
  try {
    return await job(svc);
  } finally {
    await svc.close();
  }
}

/** A string option that may be given several times, as a list. */
export function many(v: unknown): string[] {
  return v === undefined ? [] : Array.isArray(v) ? (v as string[]) : [v as string];
}

/** Space-separated scopes as a list. */
export function scopes(v: unknown): string[] | undefined {
  return typeof v === 'string' ? v.split(' ').filter((s) => s !== '') : undefined;
}
