/**
 * Internal: where the issuer's endpoints are. Configured URLs win; the rest come from the issuer's RFC 8414
 * metadata, fetched once (concurrent callers share the fetch; a failed fetch is retried by the next caller).
 * @module
 */
import { configError } from '../core/_options.js';
import { WritError } from '../core/errors.js';
import { getJsonObject } from './_http.js';

/** The metadata members the gateway reads (RFC 8414 §2, plus Writ's `writ_*` endpoints). */
export const ENDPOINT_NAMES = [
  'jwks_uri',
  'token_endpoint',
  'writ_revocations_endpoint',
  'writ_revocations_stream_endpoint',
  'writ_usage_endpoint',
  'writ_ledger_endpoint',
] as const;

/** One endpoint of the issuer. */
export type EndpointName = (typeof ENDPOINT_NAMES)[number];

const MAX_METADATA_BYTES = 64 * 1024;

/** An absolute `http:`/`https:` URL without user information, or `ERR_CONFIG_INVALID` naming `name`. */
export function httpUrlOption(name: string, value: unknown): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw configError(name, 'must be an absolute http(s) URL');
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') {
    throw configError(name, 'must be an absolute http(s) URL without user information');
  }
  return String(value);
}

/** RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path. */
function metadataUrl(issuer: string): string {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.origin}/.well-known/oauth-authorization-server${path}`;
}

/** The issuer's endpoints, configured or discovered. */
export class IssuerEndpoints {
  readonly #issuer: string;
  readonly #configured: Partial<Record<EndpointName, string>>;
  readonly #timeout: number;
  readonly #signal: AbortSignal;
  #metadata: Promise<Record<string, unknown>> | undefined;

  constructor(issuer: string, configured: Partial<Record<EndpointName, string>>, timeout: number, signal: AbortSignal) {
    this.#issuer = issuer;
    this.#configured = configured;
    this.#timeout = timeout;
    this.#signal = signal;
  }

  /** The URL of `name`; a failure to learn it is `ERR_ISSUER_UNAVAILABLE`. */
  async get(name: EndpointName): Promise<string> {
    const configured = this.#configured[name];
    if (configured !== undefined) return configured;
    this.#metadata ??= this.#discover().catch((e: unknown) => {
      this.#metadata = undefined;
      throw e;
    });
    const value = (await this.#metadata)[name];
    try {
      return httpUrlOption(name, value);
    } catch (cause) {
      throw new WritError('ERR_ISSUER_UNAVAILABLE', { cause, detail: `issuer metadata has no usable ${name}` });
    }
  }

  async #discover(): Promise<Record<string, unknown>> {
    const url = metadataUrl(this.#issuer);
    const init = { timeout: this.#timeout, maxBytes: MAX_METADATA_BYTES, signal: this.#signal };
    const { json: metadata } = await getJsonObject(url, init, 'ERR_ISSUER_UNAVAILABLE');
    // RFC 8414 §3.3: the metadata must name exactly the issuer it was fetched for.
    if (metadata.issuer !== this.#issuer) {
      throw new WritError('ERR_ISSUER_UNAVAILABLE', { detail: `${url}: issuer does not match` });
    }
    return metadata;
  }
}
