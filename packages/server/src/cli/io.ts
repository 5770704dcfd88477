/**
 * What a CLI command gets: its streams and environment (so tests run commands in-process with captured output),
 * plus helpers for the two output modes — human text by default, one JSON document with `--json`.
 * @module
 */
import { isWritError } from '@writ/verifier';

/** Streams and environment of one command run. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

/** A command: gets its arguments (after the command words) and returns the exit code. */
export type Command = (argv: string[], io: CliIo) => Promise<number>;

/** Exit codes shared by every command. */
export const EXIT = Object.freeze({ ok: 0, failed: 1, usage: 2 });

/** Thrown for bad command-line usage; main prints it with a hint and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Writes one line to stdout. */
export function out(io: CliIo, line = ''): void {
  io.stdout.write(`${line}\n`);
}

/** Writes a JSON document to stdout (the only thing `--json` commands print there). */
export function outJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Writes one line to stderr. */
export function err(io: CliIo, line: string): void {
  io.stderr.write(`${line}\n`);
}

/** A one-line description of an error for the terminal: code and public text, plus private detail if any. */
export function describeError(e: unknown): string {
  if (isWritError(e)) return `${e.message}${e.detail ? `: ${e.detail}` : ''} (${e.code})`;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Formats rows as an aligned text table. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** A progress line on a terminal (stderr), silent otherwise; `done()` clears it. */
export function progress(io: CliIo, label: string): { update(done: number, total: number): void; done(): void } {
  const tty = (io.stderr as NodeJS.WriteStream).isTTY === true;
  let last = 0;
  return {
    update(done, total) {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
      io.stderr.write(`\r${label}: ${done}/${total} (${pct}%)`);
    },
    done() {
      if (tty) io.stderr.write('\r\x1b[K');
    },
  };
}
