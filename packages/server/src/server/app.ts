/**
 * The Writ HTTP service: builds the Fastify app from a node's {@link Services}. Routes live in `routes/`, one
 * contract per file; this file holds what they share (client authentication, DPoP, the issuer-side verifier,
 * rate limits) and the error mapping.
 * @module
 */
import {
  type AccessTokenClaims,
  DpopNonces,
  DpopVerifier,
  MemoryReplayCache,
  type ReplayCache,
  type TokenKeyInfo,
  Verifier,
  WritError,
} from '@writ/verifier';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { authenticateClient, type ClientAuthDeps } from './client-auth.js';
import { SecretVerifier } from './client-secret.js';
import { TrustedIssuers } from './grants/trusted-issuers.js';
import { installHttpBasics } from './http.js';
import { RateLimiter } from './rate-limit.js';
import { adminRoutes } from './routes/admin.js';
import { forwardAuthRoutes } from './routes/forward-auth.js';
import { healthRoutes } from './routes/health.js';
import { ledgerRoutes } from './routes/ledger.js';
import { metadataRoutes } from './routes/metadata.js';
import { oauthRoutes } from './routes/oauth.js';
import { verifierFeedRoutes } from './routes/verifier-feed.js';
import type { Services } from './services.js';

/** What routes share, built once per app. */
export interface HttpContext {
  svc: Services;
  /** Endpoint URLs as clients see them. */
  urls: {
    issuer: string;
    token: string;
    introspect: string;
    revoke: string;
    jwks: string;
  };
  clientAuth: ClientAuthDeps;
  /** Verifies DPoP proofs at the token endpoint. */
  tokenDpop: DpopVerifier;
  /** Server nonces, when required. */
  nonces: DpopNonces | undefined;
  /** Verifies Writ access tokens the issuer is handed (grants, introspection, revocation): any audience. */
  grantTokens: Verifier;
  /** Verifies tokens for Writ's own APIs (admin, verifier feed): audience = the issuer. */
  apiTokens: Verifier;
  trusted: TrustedIssuers;
  replay: ReplayCache;
  perIp: RateLimiter;
  perClient: RateLimiter;
  /** Authenticates the client of a request (form already parsed). */
  authenticate(req: FastifyRequest, params: Record<string, string>): ReturnType<typeof authenticateClient>;
  /** Limits a key; throws `ERR_RATE_LIMITED` with `retryAfter`. */
  limit(limiter: RateLimiter, key: string): void;
  /** Set when the server is draining: new requests get 503. */
  draining: boolean;
}

/** Builds the app (not listening). `onError` sees every error answered, for logs and metrics. */
export async function buildApp(svc: Services): Promise<{ app: FastifyInstance; http: HttpContext }> {
  const { config } = svc;
  const issuer = config.issuer;
  const replay = new MemoryReplayCache();
  const nonces = config.dpop.requireNonce ? new DpopNonces({ key: svc.keys.schedule.dpopNonceKey() }) : undefined;
  const isRevoked = (claims: AccessTokenClaims, key: TokenKeyInfo) => svc.revocations.has(claims, key.kid);
  const common = { issuer, keys: svc.keys.source, isRevoked, maxTokenLifetime: config.tokens.maxLifetime };
  const perIp = new RateLimiter({ rate: config.limits.perIpRps });
  const perClient = new RateLimiter({ rate: config.limits.perClientRps });
  const clientAuth: ClientAuthDeps = {
    clients: svc.clients,
    secrets: new SecretVerifier(),
    replay,
    audiences: [`${issuer}/oauth2/token`, issuer],
  };
  const http: HttpContext = {
    svc,
    urls: {
      issuer,
      token: `${issuer}/oauth2/token`,
      introspect: `${issuer}/oauth2/introspect`,
      revoke: `${issuer}/oauth2/revoke`,
      jwks: `${issuer}/.well-known/jwks.json`,
    },
    clientAuth,
    tokenDpop: new DpopVerifier({ replayCache: replay, nonces, maxAge: config.dpop.iatWindow }),
    nonces,
    grantTokens: new Verifier({ ...common, audience: '*' }),
    apiTokens: new Verifier({ ...common, audience: issuer }),
    trusted: new TrustedIssuers(config.trustedIssuers),
    replay,
    perIp,
    perClient,
    authenticate: (req, params) => authenticateClient(req.headers.authorization, params, clientAuth),
    limit(limiter, key) {
      const wait = limiter.take(key);
      if (wait > 0) throw new WritError('ERR_RATE_LIMITED', { retryAfter: wait });
    },
    draining: false,
  };

  const app = Fastify({
    logger: false,
    bodyLimit: config.limits.bodyBytes,
    // Reject absurd URL parameters before routing (no 500 for garbage).
    routerOptions: { maxParamLength: 256 },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  installHttpBasics(app, {
    bodyLimit: config.limits.bodyBytes,
    onError: (err: WritError, req) => {
      svc.metrics.rejected.inc({ code: err.code });
      if (err.status >= 500) svc.log.error({ err, detail: err.detail, url: req.url }, 'request failed');
      else svc.log.debug({ code: err.code, detail: err.detail, url: req.url }, 'request refused');
    },
  });
  app.addHook('onRequest', async () => {
    if (http.draining) throw new WritError('ERR_SHUTTING_DOWN', { retryAfter: 1 });
  });
  metadataRoutes(app, http);
  oauthRoutes(app, http);
  ledgerRoutes(app, http);
  adminRoutes(app, http);
  verifierFeedRoutes(app, http);
  forwardAuthRoutes(app, http);
  healthRoutes(app, http);
  return { app, http };
}
