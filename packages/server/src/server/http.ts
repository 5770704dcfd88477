/**
 * HTTP plumbing shared by every route: strict form bodies, the error → response mapping (RFC 6749 §5.2 JSON,
 * RFC 6750 §3 `WWW-Authenticate`), and challenges. Anything unexpected becomes `server_error` with no detail on
 * the wire; its detail goes to the log.
 * @module
 */
import { type ErrorCode, parseStrictJson, toWritError, WritError } from '@writ/verifier';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The parameters of an `application/x-www-form-urlencoded` body that may repeat: `resource` (RFC 8707 §2) and
 * `audience` (RFC 8693 §2.1). Every other parameter appears at most once (RFC 6749 §3.1, §3.2).
 */
export interface FormLists {
  resource: string[];
  audience: string[];
}

const REPEATABLE = new Set(['resource', 'audience']);

/** Parses a form body, refusing repeated parameters (other than `resource`/`audience`) and empty names. */
export function parseForm(text: string): { params: Record<string, string>; lists: FormLists } {
  const params: Record<string, string> = Object.create(null);
  const lists: FormLists = { resource: [], audience: [] };
  for (const [k, v] of new URLSearchParams(text)) {
    if (k === '') continue;
    if (REPEATABLE.has(k)) {
      lists[k as keyof FormLists].push(v);
      continue;
    }
    if (k in params) throw new WritError('ERR_INVALID_REQUEST', { detail: `parameter ${k} repeated` });
    params[k] = v;
  }
  return { params, lists };
}

/** The parsed form of a request (an empty form when the body was not a form). */
export function formOf(body: unknown): { params: Record<string, string>; lists: FormLists } {
  const b = body as { params?: Record<string, string>; lists?: FormLists } | undefined;
  if (b && typeof b === 'object' && b.params && b.lists)
    return b as { params: Record<string, string>; lists: FormLists };
  throw new WritError('ERR_UNSUPPORTED_MEDIA_TYPE', { detail: 'expected application/x-www-form-urlencoded' });
}

// Fastify's own error codes for malformed requests, mapped to Writ codes (never a 500 for bad input).
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'ERR_INVALID_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'ERR_INVALID_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'ERR_INVALID_REQUEST',
  FST_ERR_VALIDATION: 'ERR_INVALID_REQUEST',
  FST_ERR_BAD_URL: 'ERR_INVALID_REQUEST',
  FST_ERR_ASYNC_CONSTRAINT: 'ERR_INVALID_REQUEST',
};

/** Maps anything thrown while handling a request to a {@link WritError}. */
export function requestError(e: unknown): WritError {
  if (e instanceof WritError) return e;
  const fe = e as Partial<FastifyError>;
  const code = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (code) return new WritError(code, { cause: e, detail: fe.message });
  if (e instanceof SyntaxError || (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)) {
    return new WritError('ERR_INVALID_REQUEST', { cause: e, detail: fe.message });
  }
  return toWritError(e);
}

/**
 * Sends a WritError as RFC 6749 §5.2 JSON with `Retry-After` / `DPoP-Nonce` when it carries them. `status`
 * overrides the error's own (the token endpoint answers 400 where a resource server answers 401).
 */
export function sendOAuthError(reply: FastifyReply, err: WritError, status = err.status): FastifyReply {
  if (err.retryAfter !== undefined) reply.header('retry-after', String(err.retryAfter));
  if (err.dpopNonce !== undefined) reply.header('dpop-nonce', err.dpopNonce);
  reply.header('cache-control', 'no-store');
  return reply.code(status).type('application/json').send(err.toJSON());
}

/** Installs the form parser, the error handler and the not-found handler on an app. */
export function installHttpBasics(
  app: FastifyInstance,
  options: { bodyLimit: number; onError?: (err: WritError, req: FastifyRequest) => void },
): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: options.bodyLimit },
    (_req, body, done) => {
      try {
        done(null, parseForm(body as string));
      } catch (e) {
        done(e as Error, undefined);
      }
    },
  );
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: options.bodyLimit },
    (_req, body, done) => {
      try {
        done(null, parseStrictJson(body as string, { malformed: 'ERR_INVALID_REQUEST' }));
      } catch (e) {
        done(e as Error, undefined);
      }
    },
  );
  app.setErrorHandler((e, req, reply) => {
    const err = requestError(e);
    options.onError?.(err, req);
    if (err.status === 401 && err.error === 'invalid_client' && req.headers.authorization?.startsWith('Basic ')) {
      reply.header('www-authenticate', 'Basic realm="writ"');
    }
    return sendOAuthError(reply, err);
  });
  app.setNotFoundHandler((_req, reply) => sendOAuthError(reply, new WritError('ERR_NOT_FOUND')));
}
