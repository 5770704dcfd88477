/**
 * Running a node: open the services, build the app, listen, run the periodic chores (revocation pruning, expired
 * token purge, epoch-key records), and on SIGTERM/SIGINT drain: stop accepting, finish in-flight requests, flush the
 * ledger (a final checkpoint), close the database.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { buildApp, type HttpContext } from './app.js';
import type { WritConfig } from './config.js';
import { type OpenServicesOptions, Services } from './services.js';

/** A running node. */
export interface RunningServer {
  svc: Services;
  app: FastifyInstance;
  http: HttpContext;
  /** The URL it listens on. */
  url: string;
  /** Drains and stops (idempotent). */
  close(): Promise<void>;
}

const CHORES_MS = 60_000;

/** Starts a node on `config.host:config.port`. */
export async function startServer(
  config: WritConfig,
  options: Omit<OpenServicesOptions, 'role'> = {},
): Promise<RunningServer> {
  const svc = await Services.open(config, { ...options, role: 'server' });
  let app: FastifyInstance;
  let http: HttpContext;
  try {
    ({ app, http } = await buildApp(svc));
    await app.listen({ host: config.host, port: config.port });
  } catch (e) {
    await svc.close().catch(() => {});
    throw e;
  }
  const chores = async () => {
    const now = Math.floor(Date.now() / 1000);
    svc.revocations.sweep(now * 1000);
    await svc.stores.tokens.purgeExpired(now - 3600);
    await svc.keys.publishPending(svc.ledger);
  };
  await chores().catch((e) => svc.log.warn({ err: e }, 'start-up chores failed'));
  const timer = setInterval(() => chores().catch((e) => svc.log.warn({ err: e }, 'chores failed')), CHORES_MS);
  timer.unref();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;
  return {
    svc,
    app,
    http,
    url: `http://${host}:${port}`,
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        http.draining = true;
        await app.close();
        await svc.close();
      })();
      return closing;
    },
  };
}
