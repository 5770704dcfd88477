/**
 * `writ serve`: set up on first run, then serve until SIGTERM/SIGINT, which drain in-flight requests and flush the
 * ledger before exit.
 * @module
 */
import { configWarnings } from '../../server/config.js';
import { startServer } from '../../server/serve.js';
import { type CliIo, EXIT, err, out, outJson } from '../io.js';
import { configFrom, parse } from '../options.js';
import { setup } from '../setup.js';

export const SERVE_HELP = `Usage: writ serve [--data DIR | --database postgres://...] [--host H] [--port P] [--issuer URL]

Starts the token service (SQLite in --data by default). On an empty data folder it first creates the secrets,
the database and an admin client, and says where the admin credentials were written.`;

export async function serveCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parse(argv, {}, false);
  if (values.help) {
    out(io, SERVE_HELP);
    return EXIT.ok;
  }
  const config = configFrom(values, io);
  for (const w of configWarnings(config)) err(io, `writ: warning: ${w}`);
  const first = await setup(config, io.env, { issuerGiven: values.issuer !== undefined || !!io.env.WRIT_ISSUER });
  const server = await startServer(config, { env: io.env });
  if (values.json) {
    outJson(io, { url: server.url, issuer: config.issuer, admin_credentials: first.adminCredentials ?? null });
  } else {
    out(
      io,
      `Writ ${server.svc.backend.kind === 'sqlite' ? `on SQLite (${server.svc.backend.path})` : 'on PostgreSQL'}`,
    );
    if (first.adminCredentials) out(io, `First admin credentials written to ${first.adminCredentials} (mode 0600)`);
    out(io, `Ledger ${server.svc.ledger.origin}, verifier key ${server.svc.ledger.verifierKey}`);
    out(io, `Listening on ${server.url} (issuer ${config.issuer})`);
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      err(io, `writ: ${signal}: draining`);
      server.close().then(resolve, (e) => {
        err(io, `writ: shutdown failed: ${String(e)}`);
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return EXIT.ok;
}
