/**
 * What verifiers in other processes read and post (docs/verifier-protocol.md), with scope `writ:verifier`: the
 * revocation feed — polled (`GET /revocations?since=N`) or streamed as Server-Sent Events
 * (`GET /revocations/stream`, resuming from `Last-Event-ID`) — and usage events (`POST /usage`), appended to the
 * ledger as `token.used` records.
 * @module
 */
import { isJsonObject, WritError } from '@writ/verifier';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Change } from '../../store/changes.js';
import { requireScope } from '../api-auth.js';
import type { HttpContext } from '../app.js';
import type { Use } from '../usage-log.js';

export const VERIFIER_SCOPE = 'writ:verifier';
const PAGE = 1000;
const HEARTBEAT_MS = 5000;
const MAX_EVENTS = 1000;

/** A revocation as verifiers receive it: the stored wire form with its sequence number. */
function wire(c: Change): Record<string, unknown> {
  return { seq: c.seq, ...c.data };
}

function cursor(req: FastifyRequest): number {
  const raw = req.headers['last-event-id'] ?? (req.query as Record<string, unknown>).since ?? '0';
  if (typeof raw !== 'string' || !/^(0|[1-9][0-9]{0,15})$/.test(raw)) {
    throw new WritError('ERR_INVALID_REQUEST', { detail: 'since / Last-Event-ID must be a sequence number' });
  }
  return Number(raw);
}

const TEXT = /^[\x20-\x7e]{1,1024}$/;
const CONTEXT = /^[A-Za-z0-9_-]{43}$/;
const CODE = /^ERR_[A-Z0-9_]{1,60}$/;

/** Validates one usage event into a use for the ledger. */
function usageRecord(e: unknown, i: number): Use {
  const bad = (what: string) => new WritError('ERR_INVALID_REQUEST', { detail: `events[${i}]: ${what}` });
  if (!isJsonObject(e)) throw bad('not an object');
  const { jti, aud, decision, time, context, code } = e;
  if (typeof jti !== 'string' || jti.length > 256 || !TEXT.test(jti)) throw bad('jti');
  if (typeof aud !== 'string' || !TEXT.test(aud)) throw bad('aud');
  if (decision !== 'allow' && decision !== 'deny') throw bad('decision must be allow or deny');
  if (!Number.isSafeInteger(time) || (time as number) < 0) throw bad('time must be Unix milliseconds');
  if (context !== undefined && (typeof context !== 'string' || !CONTEXT.test(context))) throw bad('context');
  if ((decision === 'deny') !== (code !== undefined)) throw bad('code goes with deny, and only with deny');
  if (code !== undefined && (typeof code !== 'string' || !CODE.test(code))) throw bad('code');
  return {
    time: time as number,
    jti,
    audience: aud,
    decision,
    ...(code !== undefined ? { error: code as string } : {}),
    ...(context !== undefined ? { context_hash: context as string } : {}),
  };
}

export function verifierFeedRoutes(app: FastifyInstance, http: HttpContext): void {
  const { svc } = http;
  const verifier = { preHandler: requireScope(http, VERIFIER_SCOPE) };

  app.get('/revocations', verifier, async (req) => {
    const since = cursor(req);
    const limitRaw = (req.query as Record<string, unknown>).limit;
    const limit = limitRaw === undefined ? PAGE : Number(limitRaw);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > PAGE) {
      throw new WritError('ERR_INVALID_REQUEST', { detail: `limit must be 1..${PAGE}` });
    }
    const upTo = await svc.stores.changes.latestSeq();
    const page = await svc.stores.changes.revocationsBetween(since, upTo, Math.floor(Date.now() / 1000), limit);
    // `latest`: this answer is complete up to that sequence number; ask again from there for more.
    const latest = page.length === limit ? page[page.length - 1]!.seq : Math.max(upTo, since);
    return { revocations: page.map(wire), latest };
  });

  app.get('/revocations/stream', verifier, (req, reply) => {
    let from = cursor(req);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    let live = false;
    const pending: Change[] = [];
    const send = (c: Change) => {
      if (c.kind !== 'revocation' || c.seq <= from) return;
      from = c.seq;
      if (!res.write(`id: ${c.seq}\nevent: revocation\ndata: ${JSON.stringify(wire(c))}\n\n`)) {
        // A reader that cannot keep up reconnects and catches up from its Last-Event-ID.
        if (res.writableLength > 1024 * 1024) res.destroy();
      }
    };
    const onChange = (c: Change) => (live ? send(c) : pending.push(c));
    const heartbeat = setInterval(() => {
      res.write(`event: heartbeat\ndata: ${JSON.stringify({ latest: Math.max(from, svc.feed.lastSeq) })}\n\n`);
    }, HEARTBEAT_MS);
    const stop = () => {
      clearInterval(heartbeat);
      svc.feed.off('change', onChange);
    };
    svc.feed.on('change', onChange);
    res.on('close', stop);
    void (async () => {
      try {
        const upTo = Math.max(svc.feed.lastSeq, await svc.stores.changes.latestSeq());
        for (;;) {
          const page = await svc.stores.changes.revocationsBetween(from, upTo, Math.floor(Date.now() / 1000), PAGE);
          for (const c of page) send(c);
          if (page.length < PAGE) break;
        }
        from = Math.max(from, upTo);
        live = true;
        for (const c of pending.splice(0)) send(c);
        res.write(`event: heartbeat\ndata: ${JSON.stringify({ latest: from })}\n\n`);
      } catch (e) {
        svc.log.warn({ err: e }, 'revocation stream failed');
        res.destroy();
      }
    })();
  });

  app.post('/usage', verifier, async (req, reply) => {
    const body = req.body;
    if (!isJsonObject(body) || !Array.isArray(body.events)) {
      throw new WritError('ERR_INVALID_REQUEST', { detail: 'expected {"events": [...]}' });
    }
    if (body.events.length > MAX_EVENTS) {
      throw new WritError('ERR_INVALID_REQUEST', { detail: `at most ${MAX_EVENTS} events per request` });
    }
    const records = body.events.map(usageRecord);
    const health = svc.ledger.health();
    if (!health.writable) throw new WritError('ERR_LEDGER_UNAVAILABLE', { retryAfter: 1 });
    if ((req.query as Record<string, unknown>).durable === '1') {
      const indexes = await Promise.all(records.map((r) => svc.usage.recordDurable(r)));
      return { accepted: records.length, indexes };
    }
    for (const r of records) svc.usage.record(r);
    return reply.code(202).send({ accepted: records.length });
  });
}
