/**
 * DPoP `htu` normalisation. RFC 9449 §4.3 (check 9) compares `htu` with the request URI ignoring query and
 * fragment, and points to RFC 3986 §6.2.2 (syntax-based) and §6.2.3 (scheme-based) normalisation: scheme and host
 * case, default port, dot segments, percent-encoding case, unreserved characters decoded.
 * @module
 */

const PCT = /%([0-9A-Fa-f]{2})/g;
// RFC 3986 §2.3 unreserved characters.
const UNRESERVED = /[A-Za-z0-9\-._~]/;

function normalizePercent(_: string, hex: string): string {
  const c = String.fromCharCode(Number.parseInt(hex, 16));
  return UNRESERVED.test(c) ? c : `%${hex.toUpperCase()}`;
}

/**
 * The normal form of an absolute `http`/`https` URI without its query and fragment, or `undefined` when `uri` is not
 * one (relative, another scheme, user information, unparseable).
 */
export function normalizeHtu(uri: string): string | undefined {
  if (typeof uri !== 'string') return undefined;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') {
    return undefined;
  }
  // WHATWG URL already lower-cases scheme and host, drops the default port and removes dot segments.
  return `${url.protocol}//${url.host}${url.pathname.replace(PCT, normalizePercent)}`;
}
