/**
 * Minting tokens with write-ahead provenance (DESIGN.md invariant 1): the issuance record is appended to the ledger
 * and durable before the token exists; the token then carries the record's index in its `provenance` claim.
 * Refresh tokens and opaque access tokens are stored only as HMAC(lookup key, token).
 * @module
 */
import { randomBytes } from 'node:crypto';
import {
  type AccessTokenClaims,
  type ActorClaim,
  type AuthorizationDetail,
  b64uEncode,
  type Confirmation,
  createOpaqueToken,
  lookupHash,
  type TokenIssuedRecord,
  tokenClaimsHash,
} from '@writ/verifier';
import type { Ledger } from '../ledger/ledger.js';
import type { ClientRecord } from '../store/clients.js';
import type { TokenStore } from '../store/tokens.js';
import type { WritConfig } from './config.js';
import type { KeyRing } from './keyring.js';
import type { Metrics } from './metrics.js';

/** What an access token is for. */
export interface MintAccessToken {
  client: ClientRecord;
  grantType: string;
  sub: string;
  aud: string[];
  scope: string[];
  cnf?: Confirmation;
  authorizationDetails?: AuthorizationDetail[];
  act?: ActorClaim;
  /** The token this one derives from (exchange); recorded and kept as lineage for cascading revocation. */
  parentJti?: string;
  /** The refresh family this token belongs to. */
  familyId?: string;
  /** Lifetime in seconds (capped by the client's and the server's maximum). */
  lifetime?: number;
  /** Never expire after this Unix time (a token from an exchange never outlives its parent). */
  notAfter?: number;
}

/** A minted access token. */
export interface MintedAccessToken {
  token: string;
  claims: AccessTokenClaims;
  index: number;
  expiresIn: number;
}

/** A minted refresh token. */
export interface MintedRefreshToken {
  token: string;
  jti: string;
  familyId: string;
  expiresAt: number;
}

/** Stored with a refresh token: everything a refresh needs to issue the next access token. */
export interface RefreshGrant {
  sub: string;
  aud: string[];
  scope: string[];
  cnf?: Confirmation;
  authorizationDetails?: AuthorizationDetail[];
  act?: ActorClaim;
  grantType: string;
}

function lookupBytes(keys: KeyRing, token: string): Buffer {
  return Buffer.from(lookupHash(keys.schedule.lookupKey(), token), 'base64url');
}

/** Issues tokens for a node. */
export class Issuer {
  readonly #pseudonyms = new Map<string, string>();
  readonly #config: WritConfig;
  readonly #keys: KeyRing;
  readonly #ledger: Ledger;
  readonly #tokens: TokenStore;
  readonly #metrics: Metrics;

  constructor(deps: { config: WritConfig; keys: KeyRing; ledger: Ledger; tokens: TokenStore; metrics: Metrics }) {
    this.#config = deps.config;
    this.#keys = deps.keys;
    this.#ledger = deps.ledger;
    this.#tokens = deps.tokens;
    this.#metrics = deps.metrics;
  }

  /** The HMAC under which a token (refresh, opaque access) is stored and looked up. */
  lookupHash(token: string): Buffer {
    return lookupBytes(this.#keys, token);
  }

  /** Drops cached pseudonyms (after a subject's erasure). */
  forgetPseudonyms(): void {
    this.#pseudonyms.clear();
  }

  /** The ledger pseudonym of a subject; a client acting for itself has none (its id is in the record). */
  async #subject(sub: string, clientId: string): Promise<string | undefined> {
    if (sub === clientId) return undefined;
    let p = this.#pseudonyms.get(sub);
    if (p === undefined) {
      p = await this.#ledger.pseudonymise(sub);
      if (this.#pseudonyms.size >= 10_000) this.#pseudonyms.delete(this.#pseudonyms.keys().next().value!);
      this.#pseudonyms.set(sub, p);
    }
    return p;
  }

  /** Issues an access token: record first, durable, then sign (JWT) or store (opaque). */
  async mintAccessToken(req: MintAccessToken): Promise<MintedAccessToken> {
    const { signer, schedule } = this.#keys;
    const ttl = Math.min(
      req.lifetime ?? req.client.accessTokenTtl ?? this.#config.tokens.accessTokenTtl,
      this.#config.tokens.maxLifetime,
    );
    const now = Math.floor(Date.now() / 1000);
    const lifetime = req.notAfter === undefined ? ttl : Math.min(ttl, req.notAfter - now);
    const claims = signer.claims({
      sub: req.sub,
      aud: req.aud.length === 1 ? req.aud[0]! : req.aud,
      clientId: req.client.clientId,
      scope: req.scope,
      lifetime: Math.max(1, lifetime),
      ...(req.cnf ? { cnf: req.cnf } : {}),
      ...(req.authorizationDetails ? { authorizationDetails: req.authorizationDetails } : {}),
      ...(req.act ? { act: req.act } : {}),
    });
    const opaque = req.client.accessTokenFormat === 'opaque';
    const key = opaque ? undefined : schedule.signingKey();
    const record: TokenIssuedRecord = {
      v: 1,
      type: 'token.issued',
      time: Date.now(),
      jti: claims.jti,
      token_kind: 'access',
      format: opaque ? 'opaque' : 'jwt',
      client_id: req.client.clientId,
      aud: req.aud,
      iat: claims.iat,
      exp: claims.exp,
      claims_hash: tokenClaimsHash(claims),
      grant_type: req.grantType,
      ...optional({
        subject: await this.#subject(req.sub, req.client.clientId),
        scope: claims.scope,
        kid: key?.kid,
        epoch: key?.epoch,
        generation: key?.generation,
        parent_jti: req.parentJti,
        cnf: req.cnf?.jkt
          ? { jkt: req.cnf.jkt }
          : req.cnf?.['x5t#S256']
            ? { 'x5t#S256': req.cnf['x5t#S256'] }
            : undefined,
      }),
    };
    const { index } = await this.#ledger.append(record);
    claims.provenance = { log: this.#ledger.origin, index };
    let token: string;
    if (key) {
      token = (await signer.signAsync(claims, { key })).token;
      if (req.parentJti || req.familyId) await this.#putLineage(claims, req, null);
    } else {
      token = createOpaqueToken('at');
      await this.#putLineage(claims, req, lookupBytes(this.#keys, token));
    }
    this.#metrics.issued.inc({ grant_type: req.grantType, kind: 'access' });
    return { token, claims, index, expiresIn: claims.exp - now };
  }

  async #putLineage(claims: AccessTokenClaims, req: MintAccessToken, hash: Buffer | null): Promise<void> {
    await this.#tokens.put({
      jti: claims.jti,
      hash,
      kind: 'access',
      clientId: req.client.clientId,
      subject: req.sub,
      familyId: req.familyId ?? null,
      parentJti: req.parentJti ?? null,
      claims: hash ? (claims as Record<string, unknown>) : {},
      expiresAt: claims.exp,
      status: 'active',
    });
  }

  /** Issues a refresh token in `familyId` (a new family when omitted), recorded like any token. */
  async mintRefreshToken(
    client: ClientRecord,
    grant: RefreshGrant,
    options: { familyId?: string; parentJti?: string } = {},
  ): Promise<MintedRefreshToken> {
    const now = Math.floor(Date.now() / 1000);
    const jti = b64uEncode(randomBytes(16));
    const familyId = options.familyId ?? b64uEncode(randomBytes(16));
    const expiresAt = now + this.#config.tokens.refreshTokenTtl;
    const stored = optional({ jti, client_id: client.clientId, family: familyId, iat: now, exp: expiresAt, ...grant });
    const record: TokenIssuedRecord = {
      v: 1,
      type: 'token.issued',
      time: Date.now(),
      jti,
      token_kind: 'refresh',
      format: 'opaque',
      client_id: client.clientId,
      aud: grant.aud,
      iat: now,
      exp: expiresAt,
      claims_hash: tokenClaimsHash(stored),
      grant_type: grant.grantType,
      ...optional({
        subject: await this.#subject(grant.sub, client.clientId),
        scope: grant.scope.length ? grant.scope.join(' ') : undefined,
        parent_jti: options.parentJti,
        cnf: grant.cnf?.jkt ? { jkt: grant.cnf.jkt } : undefined,
      }),
    };
    await this.#ledger.append(record);
    const token = createOpaqueToken('rt');
    await this.#tokens.put({
      jti,
      hash: lookupBytes(this.#keys, token),
      kind: 'refresh',
      clientId: client.clientId,
      subject: grant.sub,
      familyId,
      parentJti: options.parentJti ?? null,
      claims: stored as unknown as Record<string, unknown>,
      expiresAt,
      status: 'active',
    });
    this.#metrics.issued.inc({ grant_type: grant.grantType, kind: 'refresh' });
    return { token, jti, familyId, expiresAt };
  }
}

/** Drops undefined members (records are canonical JSON: absent, never undefined). */
function optional<T extends Record<string, unknown>>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
