/**
 * Internal: every request the gateway makes to the issuer goes through {@link issuerRequest}: a timeout on the
 * whole exchange, a bound on the body, strict JSON, and one error code chosen by the caller for any failure, so an
 * unreachable or misbehaving issuer never surfaces as anything but a typed error.
 * @module
 */
import { configError } from '../core/_options.js';
import { type ErrorCode, WritError } from '../core/errors.js';
import { isJsonObject, parseStrictJson } from '../core/json.js';

/** Where an issuer endpoint is: its URL, or a function resolving it (e.g. from the issuer's metadata). */
export type UrlSource = string | (() => Promise<string>);

/** A {@link UrlSource} option as a resolver, or `ERR_CONFIG_INVALID` naming `name`. */
export function urlSourceOption(name: string, value: unknown): () => Promise<string> {
  if (typeof value === 'string' && value !== '') return () => Promise.resolve(value);
  if (typeof value === 'function') return value as () => Promise<string>;
  throw configError(name, 'must be a URL or a function resolving one');
}

/** An optional `AbortSignal` option, or `ERR_CONFIG_INVALID` naming `name`. */
export function signalOption(name: string, value: unknown): AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) throw configError(name, 'must be an AbortSignal');
  return value;
}

/** One request to the issuer. */
export interface IssuerRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Milliseconds for the whole exchange, body included. */
  timeout: number;
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** Aborts the request early (the gateway is closing). */
  signal?: AbortSignal;
}

/** The issuer's answer, its body read in full. */
export interface IssuerResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** Sends `init` to `url`; any network failure, timeout or oversized body is a `WritError` with `code`. */
export async function issuerRequest(url: string, init: IssuerRequest, code: ErrorCode): Promise<IssuerResponse> {
  const timeout = AbortSignal.timeout(init.timeout);
  const signal = init.signal ? AbortSignal.any([timeout, init.signal]) : timeout;
  try {
    const res = await fetch(url, {
      method: init.method ?? 'GET',
      headers: init.headers,
      body: init.body,
      signal,
      redirect: 'error',
    });
    return { status: res.status, headers: res.headers, text: await readBounded(res, init.maxBytes, code, signal) };
  } catch (cause) {
    if (cause instanceof WritError) throw cause;
    const detail = timeout.aborted ? `${url}: timed out` : `${url}: ${(cause as Error).message}`;
    throw new WritError(code, { cause, detail });
  }
}

/**
 * The chunks of `body`, ending with `signal.reason` as soon as `signal` aborts. Node's fetch holds a response only
 * weakly once it has been returned, so an abort alone may not reach a body that is still being read: the body is
 * cancelled here instead. A consumer that stops early cancels the body too.
 */
export async function* bodyChunks(body: ReadableStream<Uint8Array>, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  const cancel = () => {
    reader.cancel(signal.reason).catch(() => {});
  };
  signal.addEventListener('abort', cancel, { once: true });
  let done = false;
  try {
    if (signal.aborted) throw signal.reason;
    for (;;) {
      const next = await reader.read();
      if (signal.aborted) throw signal.reason;
      if (next.done) break;
      yield next.value;
    }
    done = true;
  } finally {
    signal.removeEventListener('abort', cancel);
    if (!done) cancel();
  }
}

/** The body of `res` as UTF-8 text, refusing (and cancelling) a body longer than `maxBytes`. */
async function readBounded(res: Response, maxBytes: number, code: ErrorCode, signal: AbortSignal): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > maxBytes || res.body === null) {
    await res.body?.cancel();
    if (declared > maxBytes) throw new WritError(code, { detail: `${res.url}: body exceeds ${maxBytes} bytes` });
    return '';
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of bodyChunks(res.body, signal)) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new WritError(code, { detail: `${res.url}: body exceeds ${maxBytes} bytes` });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

/** `GET url` for a JSON object: anything but a 200 with one is a `WritError` with `code`. */
export async function getJsonObject(
  url: string,
  init: Omit<IssuerRequest, 'method' | 'body' | 'headers'>,
  code: ErrorCode,
): Promise<{ readonly json: Record<string, unknown>; readonly headers: Headers }> {
  const res = await issuerRequest(url, { ...init, headers: { accept: 'application/json' } }, code);
  if (res.status !== 200) throw new WritError(code, { detail: `${url}: HTTP ${res.status}` });
  return { json: jsonObject(res.text, code, url), headers: res.headers };
}

/** Parses an issuer's JSON object strictly; anything else is a `WritError` with `code`. */
export function jsonObject(text: string, code: ErrorCode, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = parseStrictJson(text, { malformed: code });
  } catch (cause) {
    throw new WritError(code, { cause, detail: `${what}: not valid JSON` });
  }
  if (!isJsonObject(value)) throw new WritError(code, { detail: `${what}: not a JSON object` });
  return value;
}

/** Seconds of a `Retry-After` header given as delta-seconds (RFC 9110 §10.2.3), when it is one. */
export function retryAfter(headers: Headers): number | undefined {
  const v = headers.get('retry-after');
  return v !== null && /^\d{1,6}$/.test(v) ? Number(v) : undefined;
}

/** Resolves after `ms`, or as soon as `signal` aborts; the timer never keeps the process alive. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
  });
}
