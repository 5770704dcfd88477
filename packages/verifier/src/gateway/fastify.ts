/**
 * A Fastify plugin over a {@link WritGateway}. Register it once (`app.register(writFastify, { gateway })`): it
 * decorates `request.writ` and gives `app.writAuth({ scopes })`, a `preHandler` for routes
 * (`{ preHandler: app.writAuth({ scopes: 'read' }) }`) or for a whole scope (`app.addHook('preHandler', …)`).
 * A failure is answered with its status, `WWW-Authenticate`, `DPoP-Nonce` and a JSON error body.
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { VerifiedAccessToken } from '../core/jwt/verify.js';
import { type RouteOptions, routeOptions, type WritGateway } from './verify-request.js';

/** A Fastify `preHandler` that verifies the request's token. */
export type WritPreHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified access token, set by `writAuth`; null before it ran. */
    writ: VerifiedAccessToken | null;
  }
  interface FastifyInstance {
    /** A `preHandler` that lets a request through only with a token valid for the route. */
    writAuth(options?: RouteOptions): WritPreHandler;
  }
}

/** Options of {@link writFastify}. */
export interface WritFastifyOptions {
  gateway: WritGateway;
}

/** A `preHandler` over `gateway` for a route with `options`. */
export function writPreHandler(gateway: WritGateway, options: RouteOptions = {}): WritPreHandler {
  const route = routeOptions(options);
  return async (request, reply) => {
    const raw = request.raw;
    const presented = {
      method: request.method,
      url: request.url,
      headers: request.headers,
      rawHeaders: raw.rawHeaders,
      body: request.body,
      socket: raw.socket,
    };
    try {
      request.writ = await gateway.verifyRequest(presented, route);
      return undefined;
    } catch (error) {
      const response = gateway.challenge(error, presented);
      return reply.code(response.status).headers(response.headers).send(response.body);
    }
  };
}

async function plugin(fastify: FastifyInstance, options: WritFastifyOptions): Promise<void> {
  const gateway = options.gateway;
  if (typeof gateway?.verifyRequest !== 'function') throw new TypeError('writFastify: options.gateway is required');
  fastify.decorateRequest('writ', null);
  fastify.decorate('writAuth', (route?: RouteOptions) => writPreHandler(gateway, route));
}

/**
 * The plugin. It is not encapsulated (as `fastify-plugin` would mark it), so `request.writ` and `writAuth` are seen
 * by the scope that registers it.
 */
export const writFastify = Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'writ',
});
