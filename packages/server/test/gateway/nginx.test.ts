/**
 * A real nginx with `auth_request` in front of a test upstream, configured with the very snippet of
 * docs/forward-auth.md: allowed, 401 with WWW-Authenticate passed through, 403 insufficient scope, revoked token
 * refused. Skipped (saying why) when nginx is not installed, unless WRIT_REQUIRE_NGINX=1 (set by .ci/run).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addClient, basic, freePort, postForm, startTestServer, type TestServer } from '../helpers/server.js';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx'].find((p) => existsSync(p));
const API = 'https://api.example';

function nginxSkipReason(): string | undefined {
  if (NGINX) return undefined;
  const why = 'nginx tests skipped: nginx is not installed (apt-get install nginx-light)';
  if (process.env.WRIT_REQUIRE_NGINX === '1') throw new Error(why);
  console.warn(`# ${why}`);
  return why;
}

/** The nginx block of docs/forward-auth.md, with its ports replaced. */
function documentedSnippet(ports: { nginx: number; writ: number; upstream: number }): string {
  const doc = readFileSync(new URL('../../../../../docs/forward-auth.md', import.meta.url), 'utf8');
  const m = /<!-- nginx-begin -->\s*```nginx\n([\s\S]*?)```\s*<!-- nginx-end -->/.exec(doc);
  assert.ok(m, 'docs/forward-auth.md has the nginx block');
  return m[1]!
    .replace('listen 127.0.0.1:8000;', `listen 127.0.0.1:${ports.nginx};`)
    .replace('http://127.0.0.1:8080/auth', `http://127.0.0.1:${ports.writ}/auth`)
    .replace('http://127.0.0.1:9000', `http://127.0.0.1:${ports.upstream}`);
}

describe('nginx auth_request in front of an upstream', () => {
  const skip = nginxSkipReason();
  if (skip) {
    test('nginx', { skip }, () => {});
    return;
  }
  let t: TestServer;
  let upstream: Server;
  let nginx: ChildProcess;
  let dir: string;
  let base: string;
  const seen: Array<Record<string, string | string[] | undefined>> = [];

  before(async () => {
    t = await startTestServer('sqlite');
    const ports = { nginx: await freePort(), writ: Number(new URL(t.url).port), upstream: await freePort() };
    upstream = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: req.url, subject: req.headers['x-writ-subject'] ?? null }));
    });
    await new Promise<void>((r) => upstream.listen(ports.upstream, '127.0.0.1', r));
    dir = mkdtempSync(join(tmpdir(), 'writ-nginx-'));
    for (const d of ['body', 'proxy', 'fcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d));
    const conf = `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${documentedSnippet(ports)}
}
`;
    writeFileSync(join(dir, 'nginx.conf'), conf);
    const check = spawnSync(NGINX!, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
    nginx = spawn(NGINX!, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
    base = `http://127.0.0.1:${ports.nginx}`;
    for (let i = 0; ; i++) {
      try {
        await fetch(`${base}/`);
        break;
      } catch {
        if (i > 100) throw new Error(`nginx did not start: ${readFileSync(join(dir, 'error.log'), 'utf8')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });

  after(async () => {
    nginx?.kill('SIGTERM');
    await new Promise<void>((r) => (nginx && nginx.exitCode === null ? nginx.once('exit', () => r()) : r()));
    upstream?.close();
    await t?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function tokenFor(
    scopes: string[],
  ): Promise<{ token: string; client: { client_id: string; client_secret: string } }> {
    const client = await addClient(t, { scopes, audiences: [API] });
    const r = await postForm(
      `${t.url}/oauth2/token`,
      { grant_type: 'client_credentials' },
      {
        authorization: basic(client.client_id, client.client_secret),
      },
    );
    assert.equal(r.status, 200);
    return { token: r.body.access_token as string, client };
  }

  test('a valid token reaches the upstream, with the subject header Writ set', async () => {
    const { token, client } = await tokenFor(['read']);
    const r = await fetch(`${base}/api/orders?id=7`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { path: '/api/orders?id=7', subject: client.client_id });
    assert.equal(seen.at(-1)?.['x-writ-client'], client.client_id);
  });

  test('no token or a bad one: 401 with the WWW-Authenticate challenge passed through', async () => {
    const none = await fetch(`${base}/api/orders`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer realm="writ"/);
    const bad = await fetch(`${base}/api/orders`, { headers: { authorization: 'Bearer not.a.token' } });
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });

  test('a token without the required scope: 403 insufficient_scope', async () => {
    const { token } = await tokenFor(['write']);
    const r = await fetch(`${base}/api/orders`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 403);
    assert.match(r.headers.get('www-authenticate') ?? '', /error="insufficient_scope".*scope="read"/);
  });

  test('a revoked token is refused', async () => {
    const { token, client } = await tokenFor(['read']);
    assert.equal((await fetch(`${base}/api/x`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    const revoked = await postForm(
      `${t.url}/oauth2/revoke`,
      { token },
      {
        authorization: basic(client.client_id, client.client_secret),
      },
    );
    assert.equal(revoked.status, 200);
    const r = await fetch(`${base}/api/x`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });
});
