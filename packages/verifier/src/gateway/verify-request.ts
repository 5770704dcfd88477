/**
 * {@link createWritGateway}: everything a service needs to verify Writ access tokens offline, per request. One
 * object holds the issuer's JWKS cache, the revocation feed, the usage reporter and the core `Verifier`;
 * `verifyRequest` reads a request's credentials, verifies the token for the request (binding, revocation, scopes),
 * and reports the use. The Express and Fastify middleware are thin adapters over it.
 * @module
 */
import type { JwsAlgorithm } from '../core/_alg.js';
import { checkOptionNames, configError, intOption, stringListOption, stringOption } from '../core/_options.js';
import type { DpopVerifierOptions } from '../core/dpop/verify.js';
import { b64uDecode, utf8Decode } from '../core/encoding.js';
import { type ErrorCode, toWritError, WritError } from '../core/errors.js';
import { isJsonObject, parseStrictJson } from '../core/json.js';
import type { VerifiedTokenCacheOptions } from '../core/jwt/cache.js';
import type { AccessTokenClaims } from '../core/jwt/claims.js';
import { type VerifiedAccessToken, Verifier } from '../core/jwt/verify.js';
import type { KeySource } from '../core/keys/source.js';
import { ENDPOINT_NAMES, type EndpointName, httpUrlOption, IssuerEndpoints } from './_metadata.js';
import {
  type ErrorResponse,
  errorResponse,
  type GatewayRequest,
  presentedScheme,
  type RequestUrlOptions,
  readCredentials,
  requestUrl,
  verifyContext,
} from './authorization.js';
import { ClientCredentials, type TokenSource } from './client-credentials.js';
import { RemoteJwks, type RemoteJwksStats } from './jwks.js';
import { ProvenanceChecker, type ProvenanceStats } from './provenance.js';
import { RevocationFeed, type RevocationFeedStats } from './revocations.js';
import { UsageContextCache, type UsageEvent, UsageReporter, type UsageStats } from './usage.js';

/** The client the gateway authenticates as at the issuer (a client registered with scope `writ:verifier`). */
export interface ClientSecretCredentials {
  clientId: string;
  clientSecret: string;
}

/** Options of {@link createWritGateway}, validated before anything starts. */
export interface WritGatewayOptions {
  /** The issuer URL: the exact `iss` accepted, and where its metadata is found (RFC 8414). */
  issuer: string;
  /** The audience(s) of this service: a token's `aud` must contain one. */
  audience: string | readonly string[];
  /** Scopes every request needs (routes may add more). */
  scopes?: string | readonly string[];
  /** Token algorithms accepted (default `EdDSA`, `ES256`). */
  algorithms?: readonly JwsAlgorithm[];
  /** Allowed clock skew in seconds (default 60). */
  clockTolerance?: number;
  /** Refuse tokens issued longer ago than this many seconds. */
  maxTokenAge?: number;
  /** Refuse tokens whose lifetime exceeds this many seconds. */
  maxTokenLifetime?: number;
  /** Refuse tokens longer than this many bytes (default 8,192). */
  maxTokenSize?: number;
  /** The verified-token cache (default on); `false` turns it off. */
  cache?: false | VerifiedTokenCacheOptions;
  /**
   * How the gateway authenticates to the issuer's verifier endpoints (revocation feed, usage): a client's id and
   * secret (client credentials grant, `client_secret_basic`), or your own token source.
   */
  credentials?: ClientSecretCredentials | TokenSource;
  /** Issuer endpoints to use instead of those in its metadata (any not given are discovered). */
  endpoints?: Partial<Record<EndpointName, string>>;
  /** The issuer's JWKS cache (bounds and cooldown in seconds), or a key source of your own. */
  jwks?: { minAge?: number; maxAge?: number; cooldown?: number } | KeySource;
  /** The revocation feed (default on; needs `credentials`). `false` verifies without revocation. */
  revocations?:
    | false
    | {
        maxStaleness?: number;
        failOpen?: boolean;
        /** `false` polls instead of streaming. */
        stream?: boolean;
        pollInterval?: number;
        idleTimeout?: number;
        maxEntries?: number;
      };
  /** Usage events (default on when `credentials` are given). `strict` waits for durability before allowing. */
  usage?:
    | false
    | { strict?: boolean; batchSize?: number; flushInterval?: number; maxQueue?: number; maxInFlight?: number };
  /**
   * Strict provenance: refuse tokens whose issuance record the ledger does not prove, checked against the log's
   * pinned verifier key (published by the operator, or `GET /ledger/key` checked once out of band). Off by default.
   */
  provenance?: false | { logKey: string; origin?: string; maxEntries?: number };
  /** DPoP proof checks (RFC 9449): algorithms, ages, replay cache, server nonces. */
  dpop?: DpopVerifierOptions;
  /** The `realm` of `WWW-Authenticate` challenges. */
  realm?: string;
  /** The public origin requests arrive at (`https://api.example`), for DPoP `htu` and usage contexts. */
  origin?: string;
  /** Trust `X-Forwarded-Proto`/`-Host` for the request URL when no `origin` is set (default false). */
  trustForwarded?: boolean;
  /** Milliseconds for each request to the issuer (default 5,000). */
  timeout?: number;
  /** Told about background failures (JWKS, feed, usage posts), for logs. */
  onError?: (error: WritError) => void;
  /** Clock in milliseconds (default `Date.now`). */
  now?: () => number;
}

/** Per-route requirements. */
export interface RouteOptions {
  /** Scopes this route needs besides the gateway's (a list, or a space-delimited string). */
  scopes?: string | readonly string[];
}

/** The gateway's state, for metrics and health checks. */
export interface GatewayStats {
  /** Present when the gateway fetches the issuer's JWKS. */
  readonly jwks: RemoteJwksStats | undefined;
  readonly revocations: RevocationFeedStats | undefined;
  readonly usage: UsageStats | undefined;
  readonly provenance: ProvenanceStats | undefined;
}

const OPTION_NAMES = [
  'issuer',
  'audience',
  'scopes',
  'algorithms',
  'clockTolerance',
  'maxTokenAge',
  'maxTokenLifetime',
  'maxTokenSize',
  'cache',
  'credentials',
  'endpoints',
  'jwks',
  'revocations',
  'usage',
  'provenance',
  'dpop',
  'realm',
  'origin',
  'trustForwarded',
  'timeout',
  'onError',
  'now',
];
const REVOCATION_OPTIONS = ['maxStaleness', 'failOpen', 'stream', 'pollInterval', 'idleTimeout', 'maxEntries'];
const USAGE_OPTIONS = ['strict', 'batchSize', 'flushInterval', 'maxQueue', 'maxInFlight'];
const REALM = /^[\x20-\x7e]*$/;

/**
 * Failures that come only after the token's signature verified (the core checks claims, binding, revocation and
 * scopes only then), so the token is authentic and its use is worth a usage event. Failures before that (format,
 * key, signature) are not logged: anyone can send garbage, and it must not reach the ledger.
 */
function authenticDenial(code: ErrorCode): boolean {
  return (
    code.startsWith('ERR_JWT_') ||
    code.startsWith('ERR_DPOP_') ||
    code.startsWith('ERR_TOKEN_BINDING_') ||
    code === 'ERR_TOKEN_REVOKED' ||
    code === 'ERR_INSUFFICIENT_SCOPE' ||
    code === 'ERR_AUTHORIZATION_DETAILS_MISMATCH' ||
    code === 'ERR_PROVENANCE_MISSING' ||
    code === 'ERR_PROVENANCE_UNPROVEN'
  );
}

/** Verifies requests for one issuer and audience. Create it with {@link createWritGateway}. */
export class WritGateway {
  /** The core verifier (for tokens that do not come with an HTTP request). */
  readonly verifier: Verifier;
  readonly #audiences: readonly string[];
  readonly #maxTokenSize: number;
  readonly #url: RequestUrlOptions;
  readonly #realm: string | undefined;
  readonly #dpopAlgorithms: readonly string[];
  readonly #jwks: RemoteJwks | undefined;
  readonly #revocations: RevocationFeed | undefined;
  readonly #usage: UsageReporter | undefined;
  readonly #provenance: ProvenanceChecker | undefined;
  readonly #strictUsage: boolean;
  readonly #onError: (error: WritError) => void;
  readonly #now: () => number;
  readonly #closing = new AbortController();
  readonly #contexts = new UsageContextCache();
  #closed = false;

  constructor(options: WritGatewayOptions) {
    checkOptionNames('WritGateway', options, OPTION_NAMES);
    const issuer = httpUrlOption('issuer', options.issuer);
    this.#audiences = stringListOption('audience', options.audience);
    const timeout = intOption('timeout', options.timeout, 5000, 1, 120_000);
    if (options.onError !== undefined && typeof options.onError !== 'function') {
      throw configError('onError', 'must be a function');
    }
    const onError = options.onError ?? (() => {});
    this.#onError = onError;
    const now = options.now ?? Date.now;
    this.#now = now;
    const signal = this.#closing.signal;
    const endpoints = new IssuerEndpoints(issuer, endpointsOption(options.endpoints), timeout, signal);
    const endpoint = (name: EndpointName) => () => endpoints.get(name);

    let keys: KeySource;
    if (typeof (options.jwks as KeySource | undefined)?.resolve === 'function') {
      keys = options.jwks as KeySource;
    } else {
      const jwks = (options.jwks ?? {}) as { minAge?: number; maxAge?: number; cooldown?: number };
      checkOptionNames('jwks', jwks, ['minAge', 'maxAge', 'cooldown']);
      this.#jwks = new RemoteJwks({
        ...jwks,
        uri: endpoint('jwks_uri'),
        algorithms: options.algorithms,
        timeout,
        signal,
        now,
      });
      keys = this.#jwks;
    }

    const tokens = tokenSourceOption(options.credentials, endpoint('token_endpoint'), issuer, timeout, signal, now);
    const revocations = options.revocations ?? {};
    if (revocations !== false) {
      checkOptionNames('revocations', revocations, REVOCATION_OPTIONS);
      if (tokens === undefined) {
        throw configError('revocations', 'the revocation feed needs credentials (or set revocations: false)');
      }
      const { stream, ...rest } = revocations;
      if (stream !== undefined && typeof stream !== 'boolean') throw configError('revocations.stream', 'boolean');
      this.#revocations = new RevocationFeed({
        ...rest,
        pollEndpoint: endpoint('writ_revocations_endpoint'),
        streamEndpoint: stream === false ? false : endpoint('writ_revocations_stream_endpoint'),
        tokens,
        timeout,
        clockTolerance: options.clockTolerance,
        onError,
        now,
      });
    }

    const usage = options.usage ?? (tokens === undefined ? false : {});
    let strict = false;
    if (usage !== false) {
      checkOptionNames('usage', usage, USAGE_OPTIONS);
      if (tokens === undefined) throw configError('usage', 'usage events need credentials (or set usage: false)');
      const { strict: s, ...rest } = usage;
      if (s !== undefined && typeof s !== 'boolean') throw configError('usage.strict', 'must be a boolean');
      strict = s ?? false;
      this.#usage = new UsageReporter({
        ...rest,
        endpoint: endpoint('writ_usage_endpoint'),
        tokens,
        timeout,
        onError,
        now,
      });
    }
    this.#strictUsage = strict;

    const provenance = options.provenance ?? false;
    if (provenance !== false) {
      if (typeof provenance !== 'object' || provenance === null) throw configError('provenance', 'must be an object');
      this.#provenance = new ProvenanceChecker({
        ...provenance,
        ledger: endpoint('writ_ledger_endpoint'),
        timeout,
        signal,
        now,
      });
    }

    this.verifier = new Verifier({
      issuer,
      audience: this.#audiences,
      keys,
      algorithms: options.algorithms,
      clockTolerance: options.clockTolerance,
      maxTokenAge: options.maxTokenAge,
      maxTokenLifetime: options.maxTokenLifetime,
      maxTokenSize: options.maxTokenSize,
      requiredScopes: options.scopes,
      requireProvenance: this.#provenance !== undefined,
      isRevoked: this.#revocations?.isRevoked,
      cache: options.cache,
      dpop: options.dpop,
      now,
    });
    this.#maxTokenSize = options.maxTokenSize ?? 8192;
    this.#dpopAlgorithms = options.dpop?.algorithms ?? ['EdDSA', 'ES256'];
    if (options.realm !== undefined && !REALM.test(stringOption('realm', options.realm))) {
      throw configError('realm', 'must be printable ASCII');
    }
    this.#realm = options.realm;
    if (options.trustForwarded !== undefined && typeof options.trustForwarded !== 'boolean') {
      throw configError('trustForwarded', 'must be a boolean');
    }
    this.#url = {
      origin: options.origin === undefined ? undefined : originOption(options.origin),
      trustForwarded: options.trustForwarded ?? false,
    };

    // Every option held: start the background work.
    this.#revocations?.start();
    this.#jwks?.refresh().catch((e: unknown) => onError(toWritError(e)));
  }

  /**
   * Verifies the token `request` presents, for this request: resolves with the verified token, or rejects with a
   * `WritError` whose status and challenge {@link WritGateway.challenge} gives. Never rejects with anything else.
   */
  async verifyRequest(request: GatewayRequest, route: RouteOptions = {}): Promise<VerifiedAccessToken> {
    if (this.#closed) throw new WritError('ERR_SHUTTING_DOWN');
    let token: string | undefined;
    let method = 'GET';
    let url: string | undefined;
    let verified: VerifiedAccessToken;
    try {
      const credentials = readCredentials(request, this.#maxTokenSize);
      method = request.method ?? 'GET';
      if (credentials.scheme === 'DPoP' || this.#usage !== undefined) url = requestUrl(request, this.#url);
      const context = verifyContext(credentials, method, url);
      if (route.scopes !== undefined) context.scopes = route.scopes;
      token = credentials.token;
      verified = await this.verifier.verify(token, context);
      if (this.#provenance !== undefined) await this.#provenance.check(verified.claims);
    } catch (e) {
      const error = toWritError(e);
      if (this.#usage !== undefined && token !== undefined && authenticDenial(error.code)) {
        this.#recordDenial(token, error.code, method, url!);
      }
      throw error;
    }
    if (this.#usage !== undefined) {
      const event = this.#event(verified.claims, 'allow', method, url!);
      if (this.#strictUsage) await this.#usage.recordDurable(event);
      else this.#usage.record(event);
    }
    return verified;
  }

  /**
   * The response for a failure of `verifyRequest` on `request`: status, challenge headers and JSON body. An
   * unexpected error (a 500, never caused by a client) is also passed to `onError`.
   */
  challenge(error: unknown, request?: GatewayRequest): ErrorResponse {
    const e = toWritError(error);
    if (e.status === 500) this.#onError(e);
    return errorResponse(e, {
      realm: this.#realm,
      scheme: request === undefined ? undefined : presentedScheme(request),
      dpopAlgorithms: this.#dpopAlgorithms,
    });
  }

  /** Resolves once the JWKS is loaded and the revocation feed has caught up (for start-up and readiness probes). */
  async ready(): Promise<void> {
    await Promise.all([this.#jwks?.refresh(), this.#revocations?.ready()]);
  }

  /** Counters and freshness of the JWKS cache, the revocation feed and the usage reporter. */
  get stats(): GatewayStats {
    return {
      jwks: this.#jwks?.stats,
      revocations: this.#revocations?.stats,
      usage: this.#usage?.stats,
      provenance: this.#provenance?.stats,
    };
  }

  /**
   * Stops the feed and the timers and sends the usage events still queued (the issuer stays reachable for that),
   * then aborts whatever is still in flight; later requests fail with `ERR_SHUTTING_DOWN`.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([this.#revocations?.close(), this.#usage?.close()]);
    this.#closing.abort();
  }

  #event(claims: Readonly<AccessTokenClaims>, decision: 'allow' | 'deny', method: string, url: string): UsageEvent {
    return {
      jti: claims.jti,
      aud: this.#audienceOf(claims.aud),
      decision,
      time: this.#now(),
      context: this.#contexts.get(method, url),
    };
  }

  /** This gateway's audience that a token's `aud` contains (the first configured one when none does). */
  #audienceOf(aud: unknown): string {
    const audiences = this.#audiences;
    if (typeof aud === 'string') return audiences.includes(aud) ? aud : audiences[0]!;
    return (Array.isArray(aud) && audiences.find((a) => aud.includes(a))) || audiences[0]!;
  }

  /** A denial of an authentic token: its claims are read again from the token that just verified. */
  #recordDenial(token: string, code: ErrorCode, method: string, url: string): void {
    let claims: unknown;
    try {
      claims = parseStrictJson(utf8Decode(b64uDecode(token.split('.')[1] ?? '')));
    } catch {
      return;
    }
    if (!isJsonObject(claims) || typeof claims.jti !== 'string' || claims.jti === '') return;
    this.#usage!.record({ ...this.#event(claims as AccessTokenClaims, 'deny', method, url), code });
  }
}

/** Validates per-route options once, when a middleware is made for the route. */
export function routeOptions(options: RouteOptions): RouteOptions {
  checkOptionNames('route', options, ['scopes']);
  return options.scopes === undefined ? {} : { scopes: stringListOption('scopes', options.scopes, true) };
}

/** Creates a {@link WritGateway}: validates every option, then starts the JWKS fetch and the revocation feed. */
export function createWritGateway(options: WritGatewayOptions): WritGateway {
  return new WritGateway(options);
}

function endpointsOption(value: unknown): Partial<Record<EndpointName, string>> {
  if (value === undefined) return {};
  checkOptionNames('endpoints', value, ENDPOINT_NAMES);
  const endpoints: Partial<Record<EndpointName, string>> = {};
  for (const [name, url] of Object.entries(value as Record<string, unknown>)) {
    endpoints[name as EndpointName] = httpUrlOption(`endpoints.${name}`, url);
  }
  return endpoints;
}

function originOption(value: unknown): string {
  const url = new URL(httpUrlOption('origin', value));
  if (url.origin !== value) throw configError('origin', 'must be an origin only: scheme, host and port');
  return url.origin;
}

function tokenSourceOption(
  value: WritGatewayOptions['credentials'],
  tokenEndpoint: () => Promise<string>,
  issuer: string,
  timeout: number,
  signal: AbortSignal,
  now: () => number,
): TokenSource | undefined {
  if (value === undefined) return undefined;
  if (typeof (value as TokenSource).getToken === 'function') return value as TokenSource;
  checkOptionNames('credentials', value, ['clientId', 'clientSecret']);
  const { clientId, clientSecret } = value as ClientSecretCredentials;
  return new ClientCredentials({ tokenEndpoint, clientId, clientSecret, resource: issuer, timeout, signal, now });
}
