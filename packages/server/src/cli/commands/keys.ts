/**
 * `writ keys list|rotate|retire-root`.
 * @module
 */
import { type CliIo, EXIT, out, outJson, table, UsageError } from '../io.js';
import { configFrom, parse } from '../options.js';
import { withServices } from '../services.js';

export const KEYS_HELP = `Usage:
  writ keys list [--json]                      the published keys (previous, current, next epoch)
  writ keys rotate [--json]                    sign with the next (already published) key from now on
  writ keys retire-root [--generation G] [--json]
                                               refuse every key of a root generation (compromise recovery);
                                               a new root is created when none newer exists (one node)

Keys are derived, never stored: rotation and retirement change settings every node applies.
Two rotations closer together than tokens.maxLifetime can unpublish a key whose tokens are still valid.`;

function print(io: CliIo, d: Record<string, unknown>): void {
  out(io, `alg ${d.alg}, epoch ${d.epoch} (${d.epoch_seconds} s), active generation ${d.active_generation}`);
  const keys = d.keys as Array<Record<string, unknown>>;
  out(
    io,
    table([
      ['KID', 'ALG', 'GENERATION', 'EPOCH', 'SIGNING'],
      ...keys.map((k) => [String(k.kid), String(k.alg), String(k.generation), String(k.epoch), k.signing ? 'yes' : '']),
    ]),
  );
}

export async function keysCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    out(io, KEYS_HELP);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  const { values } = parse(rest, { generation: { type: 'string' } }, false);
  if (values.help) {
    out(io, KEYS_HELP);
    return EXIT.ok;
  }
  const config = configFrom(values, io);
  const actor = { kind: 'admin' as const, id: 'cli' };
  let result: Record<string, unknown>;
  switch (sub) {
    case 'list':
      result = await withServices(config, io, async (svc) => svc.keys.describe());
      break;
    case 'rotate':
      result = await withServices(config, io, (svc) => svc.keys.rotate(svc.feed, svc.ledger));
      break;
    case 'retire-root': {
      const g = values.generation === undefined ? undefined : Number(values.generation);
      if (g !== undefined && !(Number.isSafeInteger(g) && g >= 0)) throw new UsageError('--generation: integer');
      result = await withServices(config, io, async (svc) => {
        const generation = g ?? svc.keys.schedule.activeGeneration;
        await svc.keys.ensureSuccessor(generation);
        await svc.revoker.revoke({ kind: 'generation', generation }, { reason: 'root_retired', actor });
        await svc.keys.reload();
        await svc.keys.publishPending(svc.ledger);
        return { retired: generation, ...svc.keys.describe() };
      });
      break;
    }
    default:
      throw new UsageError(`unknown subcommand '${sub}'`);
  }
  if (values.json) outJson(io, result);
  else {
    if (result.retired !== undefined) out(io, `Retired root generation ${result.retired}`);
    print(io, result);
  }
  return EXIT.ok;
}
