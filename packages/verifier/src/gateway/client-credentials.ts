/**
 * The gateway's own access token for the issuer's verifier endpoints (scope `writ:verifier`): the OAuth 2.0
 * `client_credentials` grant (RFC 6749 §4.4) with `client_secret_basic` (RFC 6749 §2.3.1), the issuer named as the
 * resource (RFC 8707), cached and renewed before it expires.
 * @module
 */
import { checkOptionNames, clockOption, intOption, stringOption } from '../core/_options.js';
import { WritError } from '../core/errors.js';
import { issuerRequest, jsonObject, signalOption, type UrlSource, urlSourceOption } from './_http.js';

/** Where the gateway gets the bearer token it presents to the issuer. */
export interface TokenSource {
  /** A valid access token with scope `writ:verifier` and the issuer as audience. */
  getToken(): Promise<string>;
  /** Called when the issuer refused the token (HTTP 401): the next `getToken` must not return it again. */
  invalidate?(): void;
}

/** Options of {@link ClientCredentials}. */
export interface ClientCredentialsOptions {
  /** The issuer's token endpoint, or a function resolving it (e.g. from the issuer's metadata). */
  tokenEndpoint: UrlSource;
  clientId: string;
  clientSecret: string;
  /** Scope requested (default `writ:verifier`). */
  scope?: string;
  /** RFC 8707 resource requested, when given (the gateway names the issuer). */
  resource?: string;
  /** Milliseconds for one token request (default 5,000). */
  timeout?: number;
  /** Aborts requests in flight. */
  signal?: AbortSignal;
  /** Clock in milliseconds (default `Date.now`). */
  now?: () => number;
}

const OPTION_NAMES = ['tokenEndpoint', 'clientId', 'clientSecret', 'scope', 'resource', 'timeout', 'signal', 'now'];
const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;
/** A token is renewed once this share of its lifetime has passed (or 30 s before it expires, if earlier). */
const RENEW_AT = 0.75;

/** RFC 6749 §2.3.1: client id and secret are form-urlencoded before they are joined and base64-encoded. */
function basicAuth(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

/** A {@link TokenSource} using the client credentials grant. */
export class ClientCredentials implements TokenSource {
  readonly #endpoint: () => Promise<string>;
  readonly #authorization: string;
  readonly #body: string;
  readonly #timeout: number;
  readonly #signal: AbortSignal | undefined;
  readonly #now: () => number;
  #token: string | undefined;
  #renewAt = 0;
  #expiresAt = 0;
  #pending: Promise<string> | undefined;

  constructor(options: ClientCredentialsOptions) {
    checkOptionNames('ClientCredentials', options, OPTION_NAMES);
    this.#endpoint = urlSourceOption('tokenEndpoint', options.tokenEndpoint);
    this.#authorization = basicAuth(
      stringOption('clientId', options.clientId),
      stringOption('clientSecret', options.clientSecret),
    );
    const form = new URLSearchParams({ grant_type: 'client_credentials', scope: options.scope ?? 'writ:verifier' });
    if (options.resource !== undefined) form.set('resource', stringOption('resource', options.resource));
    this.#body = form.toString();
    this.#timeout = intOption('timeout', options.timeout, 5000, 1, 120_000);
    this.#signal = signalOption('signal', options.signal);
    this.#now = clockOption('now', options.now);
  }

  /**
   * The cached token, renewed once most of its lifetime has passed (concurrent callers share one request). A
   * refusal by the token endpoint is `ERR_CLIENT_AUTH_FAILED`; anything else that fails is `ERR_ISSUER_UNAVAILABLE`.
   * While a renewal fails, a token that has not expired yet is still returned.
   */
  async getToken(): Promise<string> {
    const now = this.#now();
    if (this.#token !== undefined && now < this.#renewAt) return this.#token;
    this.#pending ??= this.#request().finally(() => {
      this.#pending = undefined;
    });
    try {
      return await this.#pending;
    } catch (e) {
      if (this.#token !== undefined && this.#now() < this.#expiresAt) return this.#token;
      throw e;
    }
  }

  /** Forgets the cached token. */
  invalidate(): void {
    this.#token = undefined;
  }

  async #request(): Promise<string> {
    const url = await this.#endpoint();
    const started = this.#now();
    const res = await issuerRequest(
      url,
      {
        method: 'POST',
        headers: {
          authorization: this.#authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: this.#body,
        timeout: this.#timeout,
        maxBytes: MAX_TOKEN_RESPONSE_BYTES,
        signal: this.#signal,
      },
      'ERR_ISSUER_UNAVAILABLE',
    );
    if (res.status === 400 || res.status === 401) {
      throw new WritError('ERR_CLIENT_AUTH_FAILED', { detail: `${url}: HTTP ${res.status} ${res.text.slice(0, 200)}` });
    }
    if (res.status !== 200) throw new WritError('ERR_ISSUER_UNAVAILABLE', { detail: `${url}: HTTP ${res.status}` });
    const body = jsonObject(res.text, 'ERR_ISSUER_UNAVAILABLE', url);
    const { access_token: token, token_type: type, expires_in: expiresIn } = body;
    // RFC 6749 §5.1: a bearer token; this source cannot prove possession of a DPoP key.
    if (typeof token !== 'string' || token === '' || typeof type !== 'string' || type.toLowerCase() !== 'bearer') {
      throw new WritError('ERR_ISSUER_UNAVAILABLE', { detail: `${url}: no bearer access_token in the response` });
    }
    const lifetime = typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn * 1000 : 60_000;
    this.#token = token;
    this.#expiresAt = started + lifetime;
    this.#renewAt = started + Math.min(lifetime * RENEW_AT, Math.max(0, lifetime - 30_000));
    return token;
  }
}
