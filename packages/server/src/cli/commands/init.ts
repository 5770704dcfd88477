/**
 * `writ init`: create the data folder, secrets, database, ledger and first admin client (safe to run again).
 * @module
 */
import { type CliIo, EXIT, out, outJson } from '../io.js';
import { configFrom, parse } from '../options.js';
import { setup } from '../setup.js';

export async function initCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parse(argv, {}, false);
  if (values.help) {
    out(io, 'Usage: writ init [--data DIR | --database postgres://...] [--issuer URL]');
    return EXIT.ok;
  }
  const config = configFrom(values, io);
  const r = await setup(config, io.env, { issuerGiven: values.issuer !== undefined || !!io.env.WRIT_ISSUER });
  if (values.json) {
    outJson(io, { data: config.data, created: r.created, admin_credentials: r.adminCredentials ?? null });
    return EXIT.ok;
  }
  out(io, r.created.length ? `Created ${r.created.join(', ')}` : `Data folder ${config.data} already set up`);
  if (r.adminCredentials) out(io, `First admin credentials written to ${r.adminCredentials} (mode 0600)`);
  return EXIT.ok;
}
