/**
 * The ledger API, so an auditor can check everything with any RFC 9162 implementation and no Writ code: the
 * signed checkpoint and its verifier key, entries (exact leaf bytes and their decoded records), inclusion and
 * consistency proofs, and the C2SP tlog-tiles read layout under `/ledger/` (`checkpoint`, `tile/<L>/<N>`,
 * `tile/entries/<N>`), which existing tlog tools and witnesses read.
 * @module
 */
import { decodeRecord, parseTilePath, WritError } from '@writ/verifier';
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../app.js';

/** A non-negative integer query parameter; `ERR_LEDGER_RANGE_INVALID` (400) otherwise. */
function intParam(query: unknown, name: string, optional = false): number | undefined {
  const v = (query as Record<string, unknown>)[name];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,15})$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new WritError('ERR_LEDGER_RANGE_INVALID', { detail: `${name} must be a non-negative integer` });
  }
  return Number(v);
}

const b64 = (h: Uint8Array) => Buffer.from(h).toString('base64');

export function ledgerRoutes(app: FastifyInstance, { svc }: HttpContext): void {
  const { ledger } = svc;
  const text = 'text/plain; charset=utf-8';

  app.get('/ledger/key', async (_req, reply) => reply.type(text).send(`${ledger.verifierKey}\n`));

  app.get('/ledger/checkpoint', async (req, reply) => {
    const min = intParam(req.query, 'min_size', true);
    let latest = await ledger.latestCheckpoint().catch(() => undefined);
    // Sign on demand when asked for more than the latest covers (a `min_size` beyond the log gets the newest one).
    if (!latest || (min !== undefined && latest.checkpoint.size < min)) {
      await ledger.checkpoint();
      latest = await ledger.latestCheckpoint();
    }
    return reply.type(text).header('cache-control', 'no-cache').send(latest.note);
  });

  app.get('/ledger/entries', async (req) => {
    const start = intParam(req.query, 'start')!;
    const end = intParam(req.query, 'end')!;
    if (end < start) throw new WritError('ERR_LEDGER_RANGE_INVALID', { detail: 'end < start' });
    const entries = await ledger.entries(start, end);
    return {
      entries: entries.map((e) => ({ index: e.index, leaf: b64(e.data), record: decodeRecord(e.data) })),
    };
  });

  app.get('/ledger/proof/inclusion', async (req) => {
    const index = intParam(req.query, 'index')!;
    const size = intParam(req.query, 'size')!;
    if (index >= size) throw new WritError('ERR_LEDGER_RANGE_INVALID', { detail: 'index must be < size' });
    return { index, size, hashes: (await ledger.inclusionProof(index, size)).map(b64) };
  });

  app.get('/ledger/proof/consistency', async (req) => {
    const first = intParam(req.query, 'first')!;
    const second = intParam(req.query, 'second')!;
    if (first > second) throw new WritError('ERR_LEDGER_RANGE_INVALID', { detail: 'first must be <= second' });
    return { first, second, hashes: (await ledger.consistencyProof(first, second)).map(b64) };
  });

  app.get('/ledger/tile/*', async (req, reply) => {
    const t = parseTilePath(`tile/${(req.params as { '*': string })['*']}`);
    const bytes =
      t.level === 'entries' ? await ledger.entryBundle(t.index, t.width) : await ledger.tile(t.level, t.index, t.width);
    // Full tiles never change; partial ones do as the log grows.
    const cache = t.width === 256 ? 'public, max-age=31536000, immutable' : 'no-cache';
    return reply.type('application/octet-stream').header('cache-control', cache).send(bytes);
  });
}
