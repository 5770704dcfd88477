/**
 * The `writ` command: dispatches `writ <command> [<subcommand>] [options]` to its module, turns errors into one
 * line on stderr and an exit status (0 ok, 1 failed, 2 usage).
 * @module
 */
import { readFileSync } from 'node:fs';
import { isWritError } from '@writ/verifier';
import { auditCommand } from './commands/audit.js';
import { clientCommand } from './commands/client.js';
import { initCommand } from './commands/init.js';
import { keysCommand } from './commands/keys.js';
import { ledgerCommand } from './commands/ledger.js';
import { serveCommand } from './commands/serve.js';
import { tokenCommand } from './commands/token.js';
import { type CliIo, type Command, describeError, EXIT, err, out, UsageError } from './io.js';

const COMMANDS: Record<string, Command> = {
  init: initCommand,
  serve: serveCommand,
  client: clientCommand,
  token: tokenCommand,
  keys: keysCommand,
  ledger: ledgerCommand,
  audit: auditCommand,
};

export const HELP = `Usage: writ <command> [options]

Commands:
  init                         create the data folder, secrets, database and first admin client
  serve                        run the token service (creates everything on first run)
  client add|list|remove|rotate-secret
  token issue|inspect|verify|revoke
  keys list|rotate|retire-root
  ledger checkpoint|prove|entries
  audit verify                 recompute and check the whole ledger

Options shared by every command:
  --data DIR                   data folder (default ./writ-data, env WRIT_DATA)
  --database postgres://...    use PostgreSQL instead of SQLite (env WRIT_DATABASE_URL)
  --config FILE                configuration file (default <data>/writ.json when present)
  --json                       print machine-readable JSON on stdout
  -h, --help                   help for a command

Run 'writ <command> --help' for a command's options. Docs: docs/cli.md`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Runs the CLI; resolves with the exit status. */
export async function main(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out(io, HELP);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    out(io, version());
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    err(io, `writ: unknown command '${name}'. Run 'writ --help'.`);
    return EXIT.usage;
  }
  try {
    return await command(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      err(io, `writ ${name}: ${e.message}. Run 'writ ${name} --help'.`);
      return EXIT.usage;
    }
    err(io, `writ ${name}: ${describeError(e)}`);
    return isWritError(e) && (e.code === 'ERR_CONFIG_INVALID' || e.code === 'ERR_INVALID_REQUEST')
      ? EXIT.usage
      : EXIT.failed;
  }
}
