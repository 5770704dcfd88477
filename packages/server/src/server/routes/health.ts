/**
 * Health and metrics. `/healthz` and `/readyz` both fail (503) while the ledger cannot write: audit fails closed,
 * and health says so. `/readyz` also fails while the node drains or its change feed is stale.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../app.js';

const FEED_STALE_MS = 30_000;

export function healthRoutes(app: FastifyInstance, http: HttpContext): void {
  const { svc } = http;

  const status = () => {
    const ledger = svc.ledger.health();
    const feedAgeMs = Date.now() - svc.feed.lastHeard;
    return {
      ledger: {
        writable: ledger.writable,
        ...(ledger.lastError ? { error: ledger.lastError } : {}),
        queued: ledger.queued,
        checkpoint_size: ledger.checkpointSize ?? null,
        checkpoint_age_seconds: ledger.checkpointAgeMs === undefined ? null : Math.round(ledger.checkpointAgeMs / 1000),
      },
      change_feed: { last_seq: svc.feed.lastSeq, age_seconds: Math.round(feedAgeMs / 1000) },
      feedFresh: feedAgeMs < FEED_STALE_MS,
    };
  };

  app.get('/healthz', async (_req, reply) => {
    const { feedFresh, ...s } = status();
    const ok = s.ledger.writable;
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'failing', ...s });
  });

  app.get('/readyz', async (_req, reply) => {
    const { feedFresh, ...s } = status();
    const keys = svc.keys.failure;
    const ready = s.ledger.writable && feedFresh && !http.draining && !keys;
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not_ready',
      draining: http.draining,
      ...(keys ? { keys: { error: keys } } : {}),
      ...s,
    });
  });

  app.get('/metrics', async (_req, reply) => {
    const h = svc.ledger.health();
    if (h.checkpointAgeMs !== undefined) svc.metrics.checkpointAge.set(h.checkpointAgeMs / 1000);
    return reply.type(svc.metrics.registry.contentType).send(await svc.metrics.registry.metrics());
  });
}
