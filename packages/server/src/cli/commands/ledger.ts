/**
 * `writ ledger checkpoint|prove|entries`.
 * @module
 */
import { decodeRecord, leafHash, verifyInclusion } from '@writ/verifier';
import { type CliIo, EXIT, out, outJson, UsageError } from '../io.js';
import { configFrom, parse } from '../options.js';
import { withServices } from '../services.js';

export const LEDGER_HELP = `Usage:
  writ ledger checkpoint [--sign] [--json]          the latest signed checkpoint (--sign: sign one now)
  writ ledger prove --index N [--size S] [--json]   inclusion proof of entry N (against the latest checkpoint)
  writ ledger entries [--start S] [--end E] [--json]  entries [S, E) with their decoded records`;

function intOpt(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new UsageError(`${name}: integer`);
  return n;
}

export async function ledgerCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    out(io, LEDGER_HELP);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  const { values } = parse(
    rest,
    {
      sign: { type: 'boolean' },
      index: { type: 'string' },
      size: { type: 'string' },
      start: { type: 'string' },
      end: { type: 'string' },
    },
    false,
  );
  if (values.help) {
    out(io, LEDGER_HELP);
    return EXIT.ok;
  }
  const config = configFrom(values, io);
  switch (sub) {
    case 'checkpoint': {
      const cp = await withServices(config, io, async (svc) => {
        if (values.sign) await svc.ledger.checkpoint();
        return svc.ledger.latestCheckpoint();
      });
      if (values.json) {
        outJson(io, {
          note: cp.note,
          origin: cp.checkpoint.origin,
          size: cp.checkpoint.size,
          root: Buffer.from(cp.checkpoint.root).toString('base64'),
        });
      } else io.stdout.write(cp.note);
      return EXIT.ok;
    }
    case 'prove': {
      const index = intOpt(values.index, '--index');
      if (index === undefined) throw new UsageError('--index is required');
      const r = await withServices(config, io, async (svc) => {
        await svc.ledger.checkpoint();
        const cp = await svc.ledger.latestCheckpoint();
        const size = intOpt(values.size, '--size') ?? cp.checkpoint.size;
        if (index >= size) throw new UsageError(`index ${index} is not below size ${size}`);
        const [entry] = await svc.ledger.entries(index, index + 1);
        const hashes = await svc.ledger.inclusionProof(index, size);
        const root = size === cp.checkpoint.size ? cp.checkpoint.root : undefined;
        let verified: boolean | undefined;
        if (root) {
          try {
            verifyInclusion(index, size, leafHash(entry!.data), hashes, root);
            verified = true;
          } catch {
            verified = false;
          }
        }
        return { index, size, leaf: entry!.data, hashes, checkpoint: root ? cp.note : undefined, verified };
      });
      const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
      const body = {
        index: r.index,
        size: r.size,
        leaf: b64(r.leaf),
        record: decodeRecord(r.leaf),
        hashes: r.hashes.map(b64),
        ...(r.checkpoint ? { checkpoint: r.checkpoint, verified: r.verified } : {}),
      };
      if (values.json) outJson(io, body);
      else {
        out(io, `entry ${r.index} of ${r.size}: ${JSON.stringify(body.record)}`);
        out(io, `proof: ${body.hashes.join(' ')}`);
        if (r.checkpoint) out(io, `verified against the latest checkpoint: ${r.verified ? 'yes' : 'NO'}`);
      }
      return r.verified === false ? EXIT.failed : EXIT.ok;
    }
    case 'entries': {
      const start = intOpt(values.start, '--start') ?? 0;
      const entries = await withServices(config, io, async (svc) => {
        const end = intOpt(values.end, '--end') ?? (await svc.ledger.size());
        return svc.ledger.entries(start, end);
      });
      const rows = entries.map((e) => ({
        index: e.index,
        leaf: e.data.toString('base64'),
        record: decodeRecord(e.data),
      }));
      if (values.json) outJson(io, { entries: rows });
      else for (const r of rows) out(io, `${r.index}\t${JSON.stringify(r.record)}`);
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown subcommand '${sub}'`);
  }
}
