/**
 * `@writ/verifier/gateway`: verification inside a service. {@link createWritGateway} holds the issuer's JWKS, a
 * revocation feed and a usage reporter; `writExpress` and `writFastify` adapt it to Express and Fastify; the
 * request parsing and challenges are exported for the issuer's forward-auth endpoint too.
 * @module
 */
export {
  type ChallengeOptions,
  type Credentials,
  type ErrorResponse,
  errorResponse,
  type GatewayRequest,
  presentedScheme,
  type RequestUrlOptions,
  readCredentials,
  requestUrl,
  verifyContext,
} from './authorization.js';
export { ClientCredentials, type ClientCredentialsOptions, type TokenSource } from './client-credentials.js';
export { type ExpressLikeRequest, type WritExpressHandler, writExpress } from './express.js';
export { type WritFastifyOptions, type WritPreHandler, writFastify, writPreHandler } from './fastify.js';
export { RemoteJwks, type RemoteJwksOptions, type RemoteJwksStats } from './jwks.js';
export {
  ProvenanceChecker,
  type ProvenanceCheckerOptions,
  type ProvenanceStats,
} from './provenance.js';
export {
  parseRevocation,
  type Revocation,
  type RevocationKind,
  RevocationSet,
  type RevocationSetOptions,
} from './revocation-set.js';
export { RevocationFeed, type RevocationFeedOptions, type RevocationFeedStats } from './revocations.js';
export {
  UsageContextCache,
  type UsageEvent,
  UsageReporter,
  type UsageReporterOptions,
  type UsageStats,
  usageContext,
} from './usage.js';
export {
  type ClientSecretCredentials,
  createWritGateway,
  type GatewayStats,
  type RouteOptions,
  WritGateway,
  type WritGatewayOptions,
} from './verify-request.js';
