// Express and Fastify apps guarded by the gateway, on real sockets (127.0.0.1, port 0), and raw HTTP helpers for
// requests fetch() cannot make (repeated header fields, arbitrary bytes).
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import {
  createWritGateway,
  type WritGateway,
  type WritGatewayOptions,
  writExpress,
  writFastify,
} from '../../../src/gateway/index.js';
import { API_AUDIENCE, type Issuer } from './issuer.js';

/** A running app. */
export interface App {
  readonly url: string;
  close(): Promise<void>;
}

/** A framework under test. */
export interface Framework {
  readonly name: string;
  start(gateway: WritGateway): Promise<App>;
}

function describe(req: { writ?: unknown }): unknown {
  const writ = req.writ as { claims: { sub: string; scope?: string }; binding: { type: string } };
  return { sub: writ.claims.sub, scope: writ.claims.scope, binding: writ.binding.type };
}

async function expressApp(gateway: WritGateway): Promise<App> {
  const app = express();
  app.use(express.json());
  app.get('/open', (_req, res) => {
    res.json({ open: true });
  });
  app.get('/read', writExpress(gateway, { scopes: 'read' }), (req, res) => {
    res.json(describe(req));
  });
  app.get('/admin', writExpress(gateway, { scopes: ['admin'] }), (req, res) => {
    res.json(describe(req));
  });
  app.post('/echo', writExpress(gateway, { scopes: 'read' }), (req, res) => {
    res.json(describe(req));
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function fastifyApp(gateway: WritGateway): Promise<App> {
  const app = Fastify();
  await app.register(writFastify, { gateway });
  app.get('/open', async () => ({ open: true }));
  app.get('/read', { preHandler: app.writAuth({ scopes: 'read' }) }, async (request) => describe(request));
  app.get('/admin', { preHandler: app.writAuth({ scopes: ['admin'] }) }, async (request) => describe(request));
  app.post('/echo', { preHandler: app.writAuth({ scopes: 'read' }) }, async (request) => describe(request));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

export const FRAMEWORKS: readonly Framework[] = [
  { name: 'express', start: expressApp },
  { name: 'fastify', start: fastifyApp },
];

/** A gateway for `issuer` with test-friendly bounds; `options` override. */
export function gatewayFor(issuer: Issuer, options: Partial<WritGatewayOptions> = {}): WritGateway {
  return createWritGateway({
    issuer: issuer.url,
    audience: API_AUDIENCE,
    credentials: issuer.credentials,
    realm: 'api',
    timeout: 1000,
    ...options,
  });
}

/** A response read in full. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A request with node:http, which sends an array header value as repeated fields. */
export function send(
  url: string,
  headers: OutgoingHttpHeaders = {},
  method = 'GET',
  body?: string,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Writes `head` (request line and header lines, CRLF-separated, without the final blank line) on a socket. */
export function sendRaw(url: string, head: string): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(`${head}\r\nConnection: close\r\n\r\n`));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const [head2 = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head2.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    });
  });
}

/** Polls `check` every few ms until it returns true, or fails after `ms`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  ms = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
