/**
 * Express middleware over a {@link WritGateway}. `writExpress(gateway, { scopes })` verifies the request's token,
 * sets `req.writ` to the verified token and calls `next()`; a failure is answered at once with its status,
 * `WWW-Authenticate`, `DPoP-Nonce` and a JSON error body. It uses only Node's `req`/`res`, so Express 4 and 5 (and
 * plain `node:http` handlers) fit.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { VerifiedAccessToken } from '../core/jwt/verify.js';
import type { ErrorResponse } from './authorization.js';
import { type RouteOptions, routeOptions, type WritGateway } from './verify-request.js';

declare global {
  namespace Express {
    interface Request {
      /** The verified access token, set by `writExpress`. */
      writ?: VerifiedAccessToken;
    }
  }
}

/** A request the middleware reads (Express's `req`). */
export type ExpressLikeRequest = IncomingMessage & { body?: unknown; writ?: VerifiedAccessToken };

/** Express middleware: `(req, res, next)`. */
export type WritExpressHandler = (
  req: ExpressLikeRequest,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/** Sends `response` with Node's `ServerResponse`. */
function send(res: ServerResponse, response: ErrorResponse): void {
  res.statusCode = response.status;
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(response.body));
}

/** Middleware that lets a request through only with a token valid for this route. */
export function writExpress(gateway: WritGateway, options: RouteOptions = {}): WritExpressHandler {
  const route = routeOptions(options);
  return (req, res, next) => {
    gateway.verifyRequest(req, route).then(
      (token) => {
        req.writ = token;
        next();
      },
      (error: unknown) => {
        try {
          send(res, gateway.challenge(error, req));
        } catch (e) {
          next(e);
        }
      },
    );
  };
}
