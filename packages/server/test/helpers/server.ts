/**
 * Real Writ servers for tests: a fresh data folder, a free port on 127.0.0.1, SQLite or a fresh PostgreSQL schema,
 * and the admin credentials. Nothing is mocked.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setup } from '../../src/cli/setup.js';
import { loadConfig, type WritConfig } from '../../src/server/config.js';
import { type RunningServer, startServer } from '../../src/server/serve.js';
import { freshSchema, PG_URL, pgPoolForTest } from './postgres.js';

export type BackendKind = 'sqlite' | 'postgres';

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A PostgreSQL URL whose connections use `schema` (created here). */
export async function pgUrlWithSchema(schema = freshSchema()): Promise<{ url: string; drop(): Promise<void> }> {
  const { drop } = await pgPoolForTest(schema);
  const url = `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return { url, drop };
}

export interface TestServer {
  server: RunningServer;
  url: string;
  config: WritConfig;
  data: string;
  admin: { client_id: string; client_secret: string };
  /** Stops the server (keeping its data). */
  stop(): Promise<void>;
  /** Starts it again on the same data and port. */
  restart(): Promise<void>;
  /** Stops and deletes everything. */
  destroy(): Promise<void>;
}

/** Starts a real server. `extra` is merged into the configuration like a config file. */
export async function startTestServer(
  backend: BackendKind,
  extra: Record<string, unknown> = {},
  options: { data?: string; database?: string; port?: number } = {},
): Promise<TestServer> {
  const data = options.data ?? mkdtempSync(join(tmpdir(), 'writ-e2e-'));
  const port = options.port ?? (await freePort());
  let database = options.database;
  let drop = async () => {};
  if (backend === 'postgres' && !database) ({ url: database, drop } = await pgUrlWithSchema());
  const config = loadConfig(
    {
      data,
      port,
      issuer: `http://127.0.0.1:${port}`,
      logLevel: process.env.WRIT_TEST_LOG ?? 'silent',
      database,
      extra,
    },
    {},
  );
  const env = {};
  const first = await setup(config, env, { issuerGiven: true });
  const admin = JSON.parse(readFileSync(join(data, 'admin-credentials.json'), 'utf8'));
  void first;
  const t: TestServer = {
    server: await startServer(config, { env }),
    url: `http://127.0.0.1:${port}`,
    config,
    data,
    admin,
    async stop() {
      await t.server.close();
    },
    async restart() {
      t.server = await startServer(config, { env });
    },
    async destroy() {
      await t.server.close();
      await drop();
      rmSync(data, { recursive: true, force: true });
    },
  };
  return t;
}

/** `Authorization: Basic` for a client. */
export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** POSTs a form; returns status, headers and JSON (or text) body. */
export async function postForm(
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : {} };
}

/** An admin access token for the server. */
export async function adminToken(t: TestServer): Promise<string> {
  const r = await postForm(
    `${t.url}/oauth2/token`,
    { grant_type: 'client_credentials' },
    {
      authorization: basic(t.admin.client_id, t.admin.client_secret),
    },
  );
  if (r.status !== 200) throw new Error(`admin token: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.access_token as string;
}

/** Calls the admin API with JSON. */
export async function adminCall(
  t: TestServer,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${t.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await adminToken(t)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : {} };
}

/** Registers a client through the admin API; returns its id and secret. */
export async function addClient(
  t: TestServer,
  settings: Record<string, unknown>,
): Promise<{ client_id: string; client_secret: string }> {
  const r = await adminCall(t, 'POST', '/admin/clients', { name: 'test', ...settings });
  if (r.status !== 201) throw new Error(`add client: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as { client_id: string; client_secret: string };
}
