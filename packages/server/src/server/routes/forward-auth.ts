/**
 * Forward-auth: the check a proxy runs before each request it forwards — nginx `auth_request`, Traefik
 * `ForwardAuth`, Envoy `ext_authz` (HTTP service). The original request comes from `X-Original-Method` /
 * `X-Original-URI` (nginx), `X-Forwarded-Method` / `-Proto` / `-Host` / `-Uri` (Traefik), or, for Envoy, the check
 * request itself (`/auth<original path>`, original method and host). Its needs come from the route rules of the
 * configuration (host + path prefix + method → audience and scopes), or from the auth subrequest's own query string
 * (`/auth?audience=…&scope=read%20write`), which only the proxy's configuration sets.
 *
 * Allow = exactly `200` with the configured upstream headers; deny = `401` with `WWW-Authenticate` (RFC 6750 /
 * RFC 9449, `DPoP-Nonce` kept), or `403`. Verification is offline and local: the node's keys, its revocation set
 * (fed by the change feed), and the verified-token cache. Every decision on a verified token is a `token.used`
 * record (folded per second, see `usage-log.ts`).
 *
 * Only the proxy may reach this endpoint: it trusts the forwarded headers.
 * @module
 */
import {
  type AccessTokenClaims,
  b64uDecode,
  checkAuthorizationDetails,
  DpopVerifier,
  type ErrorCode,
  isWritError,
  MemoryReplayCache,
  parseStrictJson,
  utf8Decode,
  type VerifiedAccessToken,
  Verifier,
  WritError,
} from '@writ/verifier';
import { errorResponse, presentedScheme, readCredentials, UsageContextCache } from '@writ/verifier/gateway';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpContext } from '../app.js';
import type { RouteRule } from '../config.js';

/** What the original request needs. */
interface Needs {
  audience: string;
  scopes: string[];
  public: boolean;
}

/** The original request, as the proxy describes it. */
interface Original {
  method: string;
  host: string;
  proto: string;
  /** Path and query as sent by the client. */
  target: string;
  /** Normalised path (dot segments resolved, slashes merged), used for matching. */
  path: string;
}

// Denials worth a ledger record: those raised after the token's signature verified (so its jti is genuine).
const VERIFIED_DENIALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'ERR_TOKEN_REVOKED',
  'ERR_INSUFFICIENT_SCOPE',
  'ERR_AUTHORIZATION_DETAILS_MISMATCH',
  'ERR_TOKEN_BINDING_MISSING',
  'ERR_TOKEN_BINDING_MISMATCH',
  'ERR_DPOP_PROOF_MISSING',
  'ERR_DPOP_PROOF_INVALID',
  'ERR_DPOP_HTM_MISMATCH',
  'ERR_DPOP_HTU_MISMATCH',
  'ERR_DPOP_ATH_MISMATCH',
  'ERR_DPOP_IAT_INVALID',
  'ERR_DPOP_REPLAYED',
  'ERR_DPOP_NONCE_REQUIRED',
]);

const HOST = /^(?:[A-Za-z0-9\-._~]|%[0-9A-Fa-f]{2})+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;
const METHOD = /^[A-Z]{1,16}$/;

/** The left-most element of a header field that may be a list; a repeated field is refused. */
function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new WritError('ERR_INVALID_REQUEST', { detail: `more than one ${name} header` });
  const comma = v.indexOf(',');
  return (comma === -1 ? v : v.slice(0, comma)).trim();
}

// Path characters that `new URL` keeps as they are (RFC 3986 pchar without `%`, plus `/`): a path made only of them,
// without `//` or a `/.`, is already normal, and needs no parsing.
const PLAIN_PATH = /^(?:\/[A-Za-z0-9\-_~!$&'()*+,;=:@][A-Za-z0-9\-._~!$&'()*+,;=:@]*)+\/?$|^\/$/;

/** Resolves dot segments and merges slashes, as the proxy did before choosing a location. */
export function normalisePath(target: string): string {
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  if (PLAIN_PATH.test(path)) return path;
  const raw = path.replace(/\/{2,}/g, '/');
  if (!raw.startsWith('/')) throw new WritError('ERR_INVALID_REQUEST', { detail: 'original URI is not a path' });
  try {
    return new URL(raw, 'http://x').pathname;
  } catch (cause) {
    throw new WritError('ERR_INVALID_REQUEST', { cause, detail: 'original URI' });
  }
}

/** The original request of an auth check. */
export function originalRequest(req: FastifyRequest): Original {
  const envoy = req.url.startsWith('/auth/');
  const method = (
    header(req, 'x-original-method') ??
    header(req, 'x-forwarded-method') ??
    (envoy ? req.method : 'GET')
  ).toUpperCase();
  const target = header(req, 'x-original-uri') ?? header(req, 'x-forwarded-uri') ?? (envoy ? req.url.slice(5) : '/');
  const host = header(req, 'x-forwarded-host') ?? header(req, 'x-original-host') ?? header(req, 'host') ?? '';
  const proto = (header(req, 'x-forwarded-proto') ?? 'http').toLowerCase();
  if (!METHOD.test(method)) throw new WritError('ERR_INVALID_REQUEST', { detail: 'original method' });
  if (!HOST.test(host)) throw new WritError('ERR_INVALID_REQUEST', { detail: 'original host' });
  if (proto !== 'http' && proto !== 'https') throw new WritError('ERR_INVALID_REQUEST', { detail: 'original scheme' });
  if (target.length > 8192) throw new WritError('ERR_INVALID_REQUEST', { detail: 'original URI too long' });
  return { method, host: host.toLowerCase(), proto, target, path: normalisePath(target) };
}

/** A route rule, compiled once: lower-case host, the prefix with its trailing slash, methods as a set. */
interface CompiledRule {
  readonly host: string | undefined;
  /** `undefined` for `/` (every path). */
  readonly prefix: string | undefined;
  readonly prefixDir: string;
  readonly methods: ReadonlySet<string> | undefined;
  readonly needs: Readonly<Needs>;
}

/**
 * The route rules, compiled at start: for each host a rule names, the rules that can match it (its own and the
 * host-less ones, in configuration order), so a request only walks the rules of its host. First match wins, as
 * before compilation.
 */
export class RouteTable {
  readonly #byHost = new Map<string, readonly CompiledRule[]>();
  readonly #anyHost: readonly CompiledRule[];

  constructor(rules: readonly RouteRule[]) {
    const compiled = rules.map((r): CompiledRule => {
      const prefix = r.pathPrefix ?? '/';
      return {
        host: r.host?.toLowerCase(),
        prefix: prefix === '/' ? undefined : prefix,
        prefixDir: prefix.endsWith('/') ? prefix : `${prefix}/`,
        methods: r.methods ? new Set(r.methods) : undefined,
        needs: Object.freeze({
          audience: r.audience ?? '',
          scopes: Object.freeze([...(r.scopes ?? [])]) as string[],
          public: r.public === true,
        }),
      };
    });
    this.#anyHost = compiled.filter((r) => r.host === undefined);
    for (const host of new Set(compiled.map((r) => r.host).filter((h) => h !== undefined))) {
      // A rule's host matches the request's host with or without its port.
      const bare = host.replace(/:\d+$/, '');
      this.#byHost.set(
        host,
        compiled.filter((r) => r.host === undefined || r.host === host || r.host === bare),
      );
    }
  }

  /** The needs of the first rule matching `host` (lower case, maybe with a port), `path` and `method`. */
  match(host: string, path: string, method: string): Readonly<Needs> | undefined {
    let rules = this.#byHost.get(host);
    if (rules === undefined) {
      const colon = host.lastIndexOf(':');
      const bare = colon > host.lastIndexOf(']') ? host.slice(0, colon) : host;
      rules = (bare !== host ? this.#byHost.get(bare) : undefined) ?? this.#anyHost;
    }
    for (const r of rules) {
      if (r.prefix !== undefined && path !== r.prefix && !path.startsWith(r.prefixDir)) continue;
      if (r.methods !== undefined && !r.methods.has(method)) continue;
      return r.needs;
    }
    return undefined;
  }
}

/** Needs read from auth subrequests' query strings are remembered per URL, at most this many. */
const QUERY_NEEDS_MAX = 1000;

function queryNeeds(req: FastifyRequest): Needs | undefined {
  const q = req.query as Record<string, unknown>;
  if (q.audience === undefined && q.scope === undefined) return undefined;
  if (typeof q.audience !== 'string' || q.audience === '') {
    throw new WritError('ERR_INVALID_REQUEST', { detail: 'auth query: audience required once' });
  }
  if (q.scope !== undefined && typeof q.scope !== 'string') {
    throw new WritError('ERR_INVALID_REQUEST', { detail: 'auth query: scope once, space-separated' });
  }
  const scopes = typeof q.scope === 'string' ? q.scope.split(' ').filter((s) => s !== '') : [];
  return { audience: q.audience, scopes, public: false };
}

/** The needs of a request: the auth subrequest's query string, else the first matching route rule. */
export function needsOf(
  req: FastifyRequest,
  o: Original,
  routes: RouteTable,
  cache?: Map<string, Readonly<Needs> | null>,
): Readonly<Needs> {
  if (req.url.startsWith('/auth?')) {
    let needs = cache?.get(req.url);
    if (needs === undefined) {
      needs = queryNeeds(req) ?? null;
      if (cache) {
        if (cache.size >= QUERY_NEEDS_MAX) cache.clear();
        cache.set(req.url, needs && Object.freeze(needs));
      }
    }
    if (needs !== null) return needs;
  }
  const needs = routes.match(o.host, o.path, o.method);
  if (needs) return needs;
  throw new WritError('ERR_ACCESS_DENIED', { detail: `no route rule for ${o.method} ${o.host}${o.path}` });
}

/** The jti of a token whose signature verified before the denial (see VERIFIED_DENIALS). */
function jtiOf(token: string): string | undefined {
  try {
    const claims = parseStrictJson(utf8Decode(b64uDecode(token.split('.')[1] ?? ''))) as { jti?: unknown };
    return typeof claims.jti === 'string' ? claims.jti : undefined;
  } catch {
    return undefined;
  }
}

function claimHeader(claims: AccessTokenClaims, claim: string): string | undefined {
  const v = claims[claim];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(' ') : String(v);
}

export function forwardAuthRoutes(app: FastifyInstance, http: HttpContext): void {
  const { svc } = http;
  const verifiers = new Map<string, Verifier>();
  // With dpop.requireNonce, a proof must carry a nonce of this deployment (RFC 9449 §9); a denial carries a fresh one.
  const dpop = new DpopVerifier({
    replayCache: new MemoryReplayCache(),
    nonces: http.nonces,
    maxAge: svc.config.dpop.iatWindow,
  });
  const verifierFor = (audience: string) => {
    let v = verifiers.get(audience);
    if (!v) {
      if (verifiers.size >= 1000) verifiers.clear();
      v = new Verifier({
        issuer: svc.config.issuer,
        audience,
        keys: svc.keys.source,
        maxTokenLifetime: svc.config.tokens.maxLifetime,
        isRevoked: (claims, key) => svc.revocations.has(claims, key.kid),
        dpop,
      });
      verifiers.set(audience, v);
    }
    return v;
  };
  const routes = new RouteTable(svc.config.routes);
  const queryNeedsCache = new Map<string, Readonly<Needs> | null>();
  const upstream = Object.entries(svc.config.upstreamHeaders).map(
    ([name, claim]) => [name.toLowerCase(), claim] as const,
  );
  // The answer's headers for a verified token, built once per cached verification (its claims object is shared).
  const allowHeaders = new WeakMap<object, Record<string, string>>();
  const headersFor = (claims: Readonly<AccessTokenClaims>) => {
    let h = allowHeaders.get(claims);
    if (h === undefined) {
      h = { 'cache-control': 'no-store' };
      for (const [name, claim] of upstream) {
        const value = claimHeader(claims as AccessTokenClaims, claim);
        if (value !== undefined) h[name] = value;
      }
      allowHeaders.set(claims, h);
    }
    return h;
  };
  const verifiedAuth = svc.metrics.verified.labels({ endpoint: 'auth' });
  const logUses = svc.config.usage.forwardAuth;
  const contexts = new UsageContextCache();

  const check = async (req: FastifyRequest, reply: FastifyReply) => {
    let needs: Readonly<Needs> | undefined;
    let token: string | undefined;
    let context: string | undefined;
    try {
      const o = originalRequest(req);
      needs = needsOf(req, o, routes, queryNeedsCache);
      if (needs.public) return reply.code(200).header('cache-control', 'no-store').send();
      const credentials = readCredentials(req);
      token = credentials.token;
      const url = `${o.proto}://${o.host}${o.target}`;
      if (logUses) context = contexts.get(o.method, url);
      const verified: VerifiedAccessToken = await verifierFor(needs.audience).verify(token, {
        scheme: credentials.scheme,
        dpopProof: credentials.dpopProof,
        method: o.method,
        url,
        scopes: needs.scopes,
      });
      const { claims } = verified;
      // RFC 9396: a token that carries authorization details is held to them for this very request.
      if (claims.authorization_details) {
        checkAuthorizationDetails(claims.authorization_details, { url, method: o.method });
      }
      verifiedAuth.inc();
      if (logUses) {
        svc.usage.record({
          time: Date.now(),
          jti: claims.jti,
          audience: needs.audience,
          decision: 'allow',
          context_hash: context,
        });
      }
      return reply.code(200).headers(headersFor(claims)).send();
    } catch (e) {
      const err = isWritError(e) ? e : new WritError('ERR_INTERNAL', { cause: e });
      svc.metrics.rejected.inc({ code: err.code });
      if (err.status >= 500 && err.code !== 'ERR_REVOCATION_UNAVAILABLE') svc.log.error({ err }, 'auth check failed');
      const jti = logUses && token && needs && VERIFIED_DENIALS.has(err.code) ? jtiOf(token) : undefined;
      if (jti && needs) {
        svc.usage.record({
          time: Date.now(),
          jti,
          audience: needs.audience,
          decision: 'deny',
          error: err.code,
          ...(context ? { context_hash: context } : {}),
        });
      }
      const r = errorResponse(err, { realm: 'writ', scheme: presentedScheme(req) });
      return reply.code(r.status).headers(r.headers).send(r.body);
    }
  };

  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'], url: '/auth', handler: check });
  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'], url: '/auth/*', handler: check });
}
