/**
 * What every grant gets, and the narrowing rules they share: scopes (RFC 6749 §3.3), audiences (RFC 8707 §2) and
 * authorization details (RFC 9396 §2) are limited to what the client — or, for derived tokens, the parent — holds.
 * @module
 */
import {
  type AuthorizationDetail,
  isJsonObject,
  parseStrictJson,
  type ReplayCache,
  type VerifiedDpopProof,
  type Verifier,
  WritError,
} from '@writ/verifier';
import type { ClientRecord } from '../../store/clients.js';
import type { FormLists } from '../http.js';
import type { MintedAccessToken, MintedRefreshToken, RefreshGrant } from '../issuer.js';
import type { Services } from '../services.js';
import type { TrustedIssuers } from './trusted-issuers.js';

/** One token request, authenticated. */
export interface GrantContext {
  svc: Services;
  client: ClientRecord;
  params: Record<string, string>;
  lists: FormLists;
  /** The verified DPoP proof of the request, if it carried one. */
  dpop: VerifiedDpopProof | undefined;
  /** Verifies Writ access tokens presented as grants (any audience; revocation checked). */
  tokens: Verifier;
  trusted: TrustedIssuers;
  /** Remembers single-use assertion ids. */
  replay: ReplayCache;
}

/** What a grant produced. */
export interface GrantResult {
  access: MintedAccessToken;
  refresh?: MintedRefreshToken;
  scope: string[];
  /** RFC 8693 §2.2.1 `issued_token_type`, for token exchange. */
  issuedTokenType?: string;
}

/** A grant handler. */
export type Grant = (ctx: GrantContext) => Promise<GrantResult>;

/** The requested scopes, each within `allowed`; `allowed` itself when none are requested. */
export function narrowScope(requested: string | undefined, allowed: readonly string[]): string[] {
  if (requested === undefined) return [...allowed];
  const wanted = [...new Set(requested.split(' ').filter((s) => s !== ''))];
  for (const s of wanted) {
    if (!allowed.includes(s)) throw new WritError('ERR_SCOPE_INVALID', { detail: `scope ${s} not allowed` });
  }
  return wanted;
}

/** The requested audiences (`resource` and `audience` parameters), each within `allowed`; `allowed` when none. */
export function narrowAudience(lists: FormLists, allowed: readonly string[]): string[] {
  const wanted = [...new Set([...lists.resource, ...lists.audience])];
  if (wanted.length === 0) {
    if (allowed.length === 0) throw new WritError('ERR_TARGET_INVALID', { detail: 'no audience allowed' });
    return [...allowed];
  }
  for (const a of wanted) {
    if (!allowed.includes(a)) throw new WritError('ERR_TARGET_INVALID', { detail: `audience ${a} not allowed` });
  }
  return wanted;
}

const MAX_DETAILS = 16;

/**
 * The `authorization_details` parameter (RFC 9396 §2): a JSON array of objects with a `type`, each type one the
 * client may request; with `parent`, each entry must equal one of the parent's (exchange only narrows).
 */
export function narrowAuthorizationDetails(
  param: string | undefined,
  allowedTypes: readonly string[],
  parent?: readonly AuthorizationDetail[],
): AuthorizationDetail[] | undefined {
  if (param === undefined) return parent ? [...parent] : undefined;
  const invalid = (detail: string) => new WritError('ERR_AUTHORIZATION_DETAILS_INVALID', { detail });
  if (param.length > 8192) throw invalid('too large');
  let parsed: unknown;
  try {
    parsed = parseStrictJson(param, { malformed: 'ERR_AUTHORIZATION_DETAILS_INVALID', maxDepth: 8 });
  } catch (cause) {
    throw new WritError('ERR_AUTHORIZATION_DETAILS_INVALID', { cause, detail: 'not valid JSON' });
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || parsed.length > MAX_DETAILS) throw invalid('not a list');
  for (const d of parsed) {
    if (!isJsonObject(d) || typeof d.type !== 'string') throw invalid('entry without type');
    if (!allowedTypes.includes(d.type)) throw invalid(`type ${d.type} not allowed`);
    for (const k of ['locations', 'actions', 'datatypes', 'privileges'] as const) {
      const v = d[k];
      if (v !== undefined && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) {
        throw invalid(`${k} must be a list of strings`);
      }
    }
    if (parent && !parent.some((p) => JSON.stringify(p) === JSON.stringify(d))) {
      throw invalid('not within the parent token');
    }
  }
  return parsed as AuthorizationDetail[];
}

/**
 * Issues an access token for `grant` and, when the client may use the refresh grant, a refresh token first: the
 * access token then belongs to the refresh family and derives from it, so revoking either revokes both.
 */
export async function mintTokens(
  svc: Services,
  client: ClientRecord,
  grant: RefreshGrant,
): Promise<{ access: MintedAccessToken; refresh?: MintedRefreshToken }> {
  const refresh = client.grantTypes.includes('refresh_token')
    ? await svc.issuer.mintRefreshToken(client, grant)
    : undefined;
  const access = await svc.issuer.mintAccessToken({
    client,
    ...grant,
    familyId: refresh?.familyId,
    parentJti: refresh?.jti,
  });
  return refresh ? { access, refresh } : { access };
}

/**
 * The grant of a client acting for `sub` within its own registration: the requested scopes, audiences and
 * authorization details narrowed to what the client may have, bound to the request's DPoP key if it has one.
 */
export async function mintForClient(ctx: GrantContext, sub: string, grantType: string): Promise<GrantResult> {
  const { client, params, lists, dpop } = ctx;
  const scope = narrowScope(params.scope, client.scopes);
  const aud = narrowAudience(lists, client.audiences);
  const authorizationDetails = narrowAuthorizationDetails(
    params.authorization_details,
    client.authorizationDetailsTypes,
  );
  const cnf = dpop ? { jkt: dpop.jkt } : undefined;
  return { ...(await mintTokens(ctx.svc, client, { sub, aud, scope, cnf, authorizationDetails, grantType })), scope };
}
