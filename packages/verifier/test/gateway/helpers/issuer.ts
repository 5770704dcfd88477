// A small, real HTTP issuer for the gateway tests: node:http on 127.0.0.1, implementing docs/verifier-protocol.md
// with the real core (KeySchedule signs the tokens and publishes the JWKS; a Verifier checks the gateway's own
// `writ:verifier` token). Tests that only need an issuer use the `Issuer` interface, so they can be pointed at a
// real `writ serve` later; the fault switches (`feed`, `usage`, `jwks`) are this fixture's own.
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AccessTokenClaims,
  type AccessTokenRequest,
  AccessTokenSigner,
  ed25519NoteSigner,
  ed25519VerifierKey,
  encodeRecord,
  inclusionProof,
  type Jwks,
  KeySchedule,
  leafHash,
  MerkleFrontier,
  type NoteSigner,
  Secret,
  signCheckpoint,
  tokenClaimsHash,
  Verifier,
  WritError,
} from '../../../src/index.js';

/** What the middleware tests need from an issuer (a fixture, or a real `writ serve`). */
export interface Issuer {
  /** The issuer URL (`iss`). */
  readonly url: string;
  /** A client registered with scope `writ:verifier`. */
  readonly credentials: { clientId: string; clientSecret: string };
  /** An access token for `request` (audience, scope, binding…). */
  issueToken(request?: Partial<AccessTokenRequest>): Promise<string>;
  /** Revokes, and resolves once the revocation is acknowledged (durable). */
  revoke(revocation: { kind: string; value: string; before?: number; expiresAt?: number }): Promise<void>;
  close(): Promise<void>;
}

export const API_AUDIENCE = 'https://api.example';
export const CLIENT = { clientId: 'gateway', clientSecret: 'gateway-secret' };

interface StoredRevocation {
  seq: number;
  kind: string;
  value: string;
  before?: number;
  expires_at: number;
}

interface Stream {
  res: ServerResponse;
  /** While true nothing is written to this stream (a silent, half-dead connection). */
  silent: boolean;
}

/** The canonical bytes of the `token.issued` record of `claims`. */
function issuedRecord(claims: AccessTokenClaims, kid?: string): Buffer {
  return encodeRecord({
    v: 1,
    type: 'token.issued',
    time: Date.now(),
    jti: claims.jti,
    token_kind: 'access',
    format: 'jwt',
    client_id: claims.client_id,
    aud: typeof claims.aud === 'string' ? [claims.aud] : claims.aud,
    iat: claims.iat,
    exp: claims.exp,
    ...(kid === undefined ? {} : { kid }),
    claims_hash: tokenClaimsHash(claims),
    grant_type: 'client_credentials',
  });
}

/** The fixture's ledger: records in memory, a real Merkle tree, checkpoints signed with a real note key. */
class FixtureLedger {
  readonly origin = 'fixture.example/ledger';
  /** The verifier key a strict gateway pins. */
  readonly verifierKey: string;
  readonly #signer: NoteSigner;
  readonly #entries: Buffer[] = [];
  readonly #nodes = new Map<string, Buffer>();
  readonly #frontier = new MerkleFrontier();

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    this.#signer = ed25519NoteSigner(this.origin, privateKey);
    this.verifierKey = ed25519VerifierKey(this.origin, publicKey);
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Appends the issuance record of `claims`; returns its index. */
  logIssued(claims: AccessTokenClaims, kid: string): number {
    const bytes = issuedRecord(claims, kid);
    this.#frontier.append(leafHash(bytes), (level, index, hash) => this.#nodes.set(`${level}/${index}`, hash));
    this.#entries.push(bytes);
    return this.#entries.length - 1;
  }

  checkpoint(): string {
    return signCheckpoint(
      { origin: this.origin, size: this.size, root: this.#frontier.root(), extensions: [] },
      this.#signer,
    );
  }

  entry(index: number): Buffer | undefined {
    return this.#entries[index];
  }

  async proof(index: number, size: number): Promise<Buffer[]> {
    return inclusionProof(index, size, {
      readNodes: (ids) => ids.map(({ level, index: i }) => this.#nodes.get(`${level}/${i}`)!),
    });
  }
}

/** A recorded `POST /usage`. */
export interface UsagePost {
  readonly durable: boolean;
  readonly events: Array<Record<string, unknown>>;
}

export interface FixtureOptions {
  /** Heartbeat interval of the revocation stream in ms (default 5,000, as the protocol's upper bound). */
  heartbeatMs?: number;
  /** Token lifetime of the gateway's own tokens in seconds (default 300). */
  verifierTokenLifetime?: number;
  /** Keep every usage event received (default true); false only counts them (benchmarks). */
  retainUsage?: boolean;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The fixture issuer. Start it with {@link startFixtureIssuer}. */
export class FixtureIssuer implements Issuer {
  readonly credentials = CLIENT;
  readonly url: string;
  readonly keys: KeySchedule;
  readonly signer: AccessTokenSigner;
  readonly #server: Server;
  readonly #verifier: Verifier;
  readonly #heartbeatMs: number;
  readonly #verifierTokenLifetime: number;
  readonly #retainUsage: boolean;
  readonly #revocations: StoredRevocation[] = [];
  readonly #streams = new Set<Stream>();
  readonly #hanging = new Set<ServerResponse>();
  #heartbeat: NodeJS.Timeout;
  #seq = 0;

  /** Counters of requests served, by endpoint. */
  readonly counts = { metadata: 0, jwks: 0, token: 0, poll: 0, stream: 0, usage: 0, ledger: 0 };
  /** Usage events accepted. */
  usageAccepted = 0;
  /** `Last-Event-ID` of every stream request (undefined when absent). */
  readonly streamResumes: Array<string | undefined> = [];
  /** Every usage post received. */
  readonly usagePosts: UsagePost[] = [];
  /** Keys published besides the schedule's (a rotation the schedule does not know). */
  extraJwks: Jwks['keys'] = [];

  /** Revocation feed faults. */
  readonly feed = {
    /** Existing streams go silent, new feed requests hang: the issuer stops answering. */
    outage: () => {
      this.feedDown = true;
      for (const s of this.#streams) s.silent = true;
    },
    /** The feed answers again; hanging requests and silent streams are cut so clients reconnect. */
    restore: () => {
      this.feedDown = false;
      for (const res of this.#hanging) res.socket?.destroy();
      this.#hanging.clear();
      for (const s of this.#streams) if (s.silent) s.res.socket?.destroy();
    },
    /** Streams are refused (503) while polling still works (a proxy that breaks streaming). */
    refuseStreams: false,
  };
  feedDown = false;

  /** Usage endpoint behaviour. */
  readonly usage = { delayMs: 0, failStatus: undefined as number | undefined };
  /** The ledger, and what its endpoints do wrong on purpose. */
  readonly ledger = new FixtureLedger();
  readonly ledgerFaults = {
    /** Answer 503 to every ledger request. */
    down: false,
    /** Serve, for any index, a made-up `token.issued` record of the token with this jti and claims (a lying ledger). */
    forgedEntry: undefined as AccessTokenClaims | undefined,
  };

  constructor(server: Server, url: string, options: FixtureOptions) {
    this.#server = server;
    this.url = url;
    this.#heartbeatMs = options.heartbeatMs ?? 5000;
    this.#verifierTokenLifetime = options.verifierTokenLifetime ?? 300;
    this.#retainUsage = options.retainUsage ?? true;
    this.keys = new KeySchedule({
      roots: [{ generation: 1, secret: new Secret(Buffer.alloc(32, 42), 'fixture-root') }],
      maxTokenLifetime: 3600,
    });
    this.signer = new AccessTokenSigner({ keys: this.keys, issuer: url });
    this.#verifier = new Verifier({ issuer: url, audience: url, keys: this.keys, requiredScopes: 'writ:verifier' });
    this.#heartbeat = setInterval(() => this.#beat(), this.#heartbeatMs);
    this.#heartbeat.unref();
  }

  /** Signs a token (audience `https://api.example`, scope `read` unless given). */
  sign(request: Partial<AccessTokenRequest> = {}): string {
    return this.signer.sign(this.#claims(request)).token;
  }

  #claims(request: Partial<AccessTokenRequest>): AccessTokenClaims {
    return this.signer.claims({
      sub: 'user-1',
      aud: API_AUDIENCE,
      clientId: 'client-1',
      scope: 'read',
      lifetime: 600,
      ...request,
    });
  }

  /** Signs a token whose issuance record is in the ledger first, as the issuer does (DESIGN.md invariant 1). */
  signLogged(request: Partial<AccessTokenRequest> = {}): string {
    const claims = this.#claims(request);
    const index = this.ledger.logIssued(claims, this.keys.signingKey().kid);
    return this.signer.sign({ ...claims, provenance: { log: this.ledger.origin, index } }).token;
  }

  /** Signs claims as given (a token minted outside the issuer, with the right key). */
  signClaims(claims: AccessTokenClaims): string {
    return this.signer.sign(claims).token;
  }

  async issueToken(request: Partial<AccessTokenRequest> = {}): Promise<string> {
    return this.sign(request);
  }

  async revoke(r: { kind: string; value: string; before?: number; expiresAt?: number }): Promise<void> {
    this.revokeNow(r);
  }

  /** Appends a revocation and pushes it to every stream; returns its sequence number. */
  revokeNow(r: { kind: string; value: string; before?: number; expiresAt?: number }): number {
    const seq = ++this.#seq;
    const stored: StoredRevocation = {
      seq,
      kind: r.kind,
      value: r.value,
      expires_at: r.expiresAt ?? Math.floor(Date.now() / 1000) + 3600,
    };
    if (r.before !== undefined) stored.before = r.before;
    this.#revocations.push(stored);
    for (const s of this.#streams) if (!s.silent) this.#send(s, stored);
    return seq;
  }

  /** The latest sequence number. */
  get latest(): number {
    return this.#seq;
  }

  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    for (const s of this.#streams) s.res.socket?.destroy();
    for (const res of this.#hanging) res.socket?.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #inForce(since: number): StoredRevocation[] {
    const now = Date.now() / 1000;
    return this.#revocations.filter((r) => r.seq > since && r.expires_at > now);
  }

  #send(s: Stream, r: StoredRevocation): void {
    s.res.write(`id: ${r.seq}\nevent: revocation\ndata: ${JSON.stringify(r)}\n\n`);
  }

  #beat(): void {
    for (const s of this.#streams) {
      if (!s.silent) s.res.write(`event: heartbeat\ndata: {"latest":${this.#seq}}\n\n`);
    }
  }

  /** The `writ:verifier` check of the protocol: a bearer token for this issuer with that scope. */
  async #authorized(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    try {
      if (!m) throw new WritError('ERR_TOKEN_MISSING');
      await this.#verifier.verify(m[1]!);
      return true;
    } catch (e) {
      const err = e instanceof WritError ? e : new WritError('ERR_INTERNAL');
      json(res, err.status, err.toJSON(), { 'www-authenticate': `Bearer error="${err.error}"` });
      return false;
    }
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /.well-known/oauth-authorization-server') {
      this.counts.metadata++;
      return json(res, 200, {
        issuer: this.url,
        jwks_uri: `${this.url}/.well-known/jwks.json`,
        token_endpoint: `${this.url}/token`,
        writ_revocations_endpoint: `${this.url}/revocations`,
        writ_revocations_stream_endpoint: `${this.url}/revocations/stream`,
        writ_usage_endpoint: `${this.url}/usage`,
        writ_ledger_endpoint: `${this.url}/ledger`,
      });
    }
    if (route === 'GET /.well-known/jwks.json') {
      this.counts.jwks++;
      return json(res, 200, { keys: [...this.keys.jwks().keys, ...this.extraJwks] }, { 'cache-control': 'max-age=60' });
    }
    if (route === 'POST /token') return this.#token(req, res);
    if (route === 'GET /revocations' || route === 'GET /revocations/stream') {
      if (this.feedDown) {
        this.#hanging.add(res);
        return;
      }
      if (!(await this.#authorized(req, res))) return;
      return url.pathname === '/revocations' ? this.#poll(url, res) : this.#stream(req, res);
    }
    if (route === 'POST /usage') return this.#usage(req, url, res);
    if (req.method === 'GET' && url.pathname.startsWith('/ledger/')) return this.#ledger(url, res);
    json(res, 404, { error: 'invalid_request', error_description: 'Not found' });
  }

  async #token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counts.token++;
    const form = new URLSearchParams(await readBody(req));
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [id, secret] = Buffer.from(basic ?? '', 'base64')
      .toString()
      .split(':')
      .map((s) => decodeURIComponent(s.replace(/\+/g, ' ')));
    if (id !== CLIENT.clientId || secret !== CLIENT.clientSecret) {
      return json(res, 401, { error: 'invalid_client', error_description: 'Client authentication failed' });
    }
    if (form.get('grant_type') !== 'client_credentials' || form.get('scope') !== 'writ:verifier') {
      return json(res, 400, { error: 'invalid_request', error_description: 'The request is invalid' });
    }
    const claims = this.signer.claims({
      sub: id,
      aud: form.get('resource') ?? this.url,
      clientId: id,
      scope: 'writ:verifier',
      lifetime: this.#verifierTokenLifetime,
    });
    json(res, 200, {
      access_token: this.signer.sign(claims).token,
      token_type: 'Bearer',
      expires_in: this.#verifierTokenLifetime,
    });
  }

  #poll(url: URL, res: ServerResponse): void {
    this.counts.poll++;
    const since = Number(url.searchParams.get('since') ?? 0);
    const limit = Math.min(1000, Number(url.searchParams.get('limit') ?? 1000));
    json(res, 200, { revocations: this.#inForce(since).slice(0, limit), latest: this.#seq });
  }

  #stream(req: IncomingMessage, res: ServerResponse): void {
    if (this.feed.refuseStreams) {
      json(res, 503, { error: 'temporarily_unavailable', error_description: 'x' }, { 'retry-after': '1' });
      return;
    }
    this.counts.stream++;
    const resume = req.headers['last-event-id'];
    this.streamResumes.push(typeof resume === 'string' ? resume : undefined);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    const stream: Stream = { res, silent: false };
    this.#streams.add(stream);
    res.on('close', () => this.#streams.delete(stream));
    // The backlog after Last-Event-ID (or everything in force), then at once a heartbeat: the client is caught up.
    for (const r of this.#inForce(Number(resume ?? 0))) this.#send(stream, r);
    res.write(`event: heartbeat\ndata: {"latest":${this.#seq}}\n\n`);
  }

  async #usage(req: IncomingMessage, url: URL, res: ServerResponse): Promise<void> {
    if (!(await this.#authorized(req, res))) return;
    this.counts.usage++;
    const body = JSON.parse(await readBody(req)) as { events: Array<Record<string, unknown>> };
    if (this.usage.delayMs > 0) await sleep(this.usage.delayMs);
    if (this.usage.failStatus !== undefined) {
      return json(res, this.usage.failStatus, { error: 'temporarily_unavailable' }, { 'retry-after': '1' });
    }
    const durable = url.searchParams.get('durable') === '1';
    const first = this.usageAccepted;
    this.usageAccepted += body.events.length;
    if (this.#retainUsage) this.usagePosts.push({ durable, events: body.events });
    if (durable) {
      return json(res, 200, { accepted: body.events.length, indexes: body.events.map((_, i) => first + i) });
    }
    json(res, 202, { accepted: body.events.length });
  }

  /** The ledger endpoints of the protocol (`/ledger/key`, `/checkpoint`, `/entries`, `/proof/inclusion`). */
  async #ledger(url: URL, res: ServerResponse): Promise<void> {
    this.counts.ledger++;
    if (this.ledgerFaults.down) return json(res, 503, { error: 'temporarily_unavailable' }, { 'retry-after': '1' });
    const q = (name: string) => Number(url.searchParams.get(name));
    const text = (body: string) => {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(body);
    };
    const path = url.pathname.slice('/ledger'.length);
    if (path === '/key') return text(`${this.ledger.verifierKey}\n`);
    // Checkpoints are signed on demand here, so one always covers every entry (min_size is met when it can be).
    if (path === '/checkpoint') return text(this.ledger.checkpoint());
    if (path === '/entries') {
      const entries = [];
      for (let i = q('start'); i < Math.min(q('end'), this.ledger.size); i++) {
        const forged = this.ledgerFaults.forgedEntry;
        const data = forged ? issuedRecord(forged) : this.ledger.entry(i)!;
        entries.push({ index: i, leaf: data.toString('base64'), record: JSON.parse(data.toString()) });
      }
      return json(res, 200, { entries });
    }
    if (path === '/proof/inclusion') {
      const [index, size] = [q('index'), q('size')];
      if (!(index < size && size <= this.ledger.size)) return json(res, 400, { error: 'invalid_request' });
      const hashes = (await this.ledger.proof(index, size)).map((h) => h.toString('base64'));
      return json(res, 200, { index, size, hashes });
    }
    json(res, 404, { error: 'invalid_request' });
  }

  /** Every usage event received, in order. */
  get usageEvents(): Array<Record<string, unknown>> {
    return this.usagePosts.flatMap((p) => p.events);
  }
}

/**
 * The issuer the middleware tests run against: this fixture, with a heartbeat every 200 ms. Point the tests at
 * another implementation of the protocol (a real `writ serve`) by returning an {@link Issuer} for it here.
 */
export function startIssuer(): Promise<Issuer> {
  return startFixtureIssuer({ heartbeatMs: 200 });
}

/** Starts the fixture on 127.0.0.1 (port 0). */
export async function startFixtureIssuer(options: FixtureOptions = {}): Promise<FixtureIssuer> {
  let fixture: FixtureIssuer | undefined;
  const server = createServer((req, res) => {
    fixture!.handle(req, res).catch(() => {
      if (!res.headersSent) json(res, 500, { error: 'server_error' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fixture = new FixtureIssuer(server, `http://127.0.0.1:${port}`, options);
  return fixture;
}
