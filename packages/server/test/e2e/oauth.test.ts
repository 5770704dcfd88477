/**
 * End to end over real sockets: oauth4webapi as the OAuth client, jose verifying through jwks_uri, the same suite
 * on SQLite and on the PostgreSQL of this machine; afterwards the ledger holds every record the flows should have
 * written and the audit passes.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeRecord, type LedgerRecord } from '@writ/verifier';
import { calculateJwkThumbprint, createRemoteJWKSet, exportJWK, jwtVerify, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import { auditLedger } from '../../src/ledger/audit.js';
import { postgresSkipReason } from '../helpers/postgres.js';
import {
  addClient,
  adminCall,
  type BackendKind,
  basic,
  postForm,
  startTestServer,
  type TestServer,
} from '../helpers/server.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const API = 'https://api.example';
const OTHER = 'https://other.example';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

async function ledgerRecords(t: TestServer): Promise<Array<{ index: number; record: LedgerRecord }>> {
  const size = await t.server.svc.ledger.size();
  const out: Array<{ index: number; record: LedgerRecord }> = [];
  for (let start = 0; start < size; start += 1000) {
    for (const e of await t.server.svc.ledger.entries(start, Math.min(size, start + 1000))) {
      out.push({ index: e.index, record: decodeRecord(e.data) });
    }
  }
  return out;
}

function suite(backend: BackendKind): void {
  let t: TestServer;
  let as: oauth.AuthorizationServer;
  let idpKey: ReturnType<typeof generateKeyPairSync>;
  const idp = 'https://idp.example';

  before(async () => {
    idpKey = generateKeyPairSync('ed25519');
    const jwk = { ...(await exportJWK(idpKey.publicKey)), kid: 'idp-1', alg: 'EdDSA' };
    const dir = (await import('node:fs')).mkdtempSync(join((await import('node:os')).tmpdir(), 'writ-idp-'));
    const jwksFile = join(dir, 'idp.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
    t = await startTestServer(backend, {
      dpop: { requireNonce: true },
      trustedIssuers: [{ issuer: idp, jwksFile, algorithms: ['EdDSA'] }],
    });
    const issuer = new URL(t.url);
    as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }),
    );
  });
  after(async () => {
    await t?.destroy();
  });

  test('RFC 8414 metadata names every endpoint Writ serves', () => {
    assert.equal(as.issuer, t.url);
    assert.equal(as.token_endpoint, `${t.url}/oauth2/token`);
    assert.equal(as.jwks_uri, `${t.url}/.well-known/jwks.json`);
    assert.equal(as.introspection_endpoint, `${t.url}/oauth2/introspect`);
    assert.equal(as.revocation_endpoint, `${t.url}/oauth2/revoke`);
    assert.ok(as.grant_types_supported?.includes('client_credentials'));
    assert.ok(as.grant_types_supported?.includes(EXCHANGE));
    assert.deepEqual(as.dpop_signing_alg_values_supported, ['EdDSA', 'ES256']);
    assert.ok(as.token_endpoint_auth_methods_supported?.includes('private_key_jwt'));
  });

  test('client credentials: jose verifies the token through jwks_uri; its issuance record is in the ledger', async () => {
    const c = await addClient(t, { scopes: ['read', 'write'], audiences: [API] });
    const client = { client_id: c.client_id };
    const resp = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic(c.client_secret),
      new URLSearchParams({ scope: 'read' }),
      insecure,
    );
    const raw = (await resp.clone().json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(raw).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
    assert.ok(Number.isInteger(raw.expires_in) && (raw.expires_in as number) > 0);
    const tok = await oauth.processClientCredentialsResponse(as, client, resp);
    assert.equal(tok.token_type, 'bearer');
    assert.equal(tok.scope, 'read');
    const jwks = createRemoteJWKSet(new URL(as.jwks_uri!), insecure as never);
    const { payload, protectedHeader } = await jwtVerify(tok.access_token, jwks, {
      issuer: t.url,
      audience: API,
      typ: 'at+jwt',
      algorithms: ['EdDSA'],
      requiredClaims: ['exp', 'iat', 'nbf', 'jti', 'sub', 'client_id'],
    });
    assert.equal(payload.sub, c.client_id);
    assert.equal(payload.client_id, c.client_id);
    const provenance = payload.provenance as { log: string; index: number };
    assert.equal(provenance.log, t.server.svc.ledger.origin);
    const [entry] = await t.server.svc.ledger.entries(provenance.index, provenance.index + 1);
    const record = decodeRecord(entry!.data);
    assert.equal(record.type, 'token.issued');
    assert.equal((record as { jti: string }).jti, payload.jti);
    assert.equal((record as { kid: string }).kid, protectedHeader.kid);

    // The same via the ledger API (no Writ code needed by an auditor).
    const viaHttp = (await (
      await fetch(`${t.url}/ledger/entries?start=${provenance.index}&end=${provenance.index + 1}`)
    ).json()) as {
      entries: Array<{ index: number; leaf: string; record: { jti: string } }>;
    };
    assert.equal(viaHttp.entries[0]!.record.jti, payload.jti);
    assert.deepEqual(Buffer.from(viaHttp.entries[0]!.leaf, 'base64'), entry!.data);

    // Asking for more than allowed fails with the RFC 6749 error.
    const wide = await postForm(
      `${t.url}/oauth2/token`,
      { grant_type: 'client_credentials', scope: 'admin' },
      {
        authorization: basic(c.client_id, c.client_secret),
      },
    );
    assert.equal(wide.status, 400);
    assert.equal(wide.body.error, 'invalid_scope');
    const target = await postForm(
      `${t.url}/oauth2/token`,
      { grant_type: 'client_credentials', resource: OTHER },
      {
        authorization: basic(c.client_id, c.client_secret),
      },
    );
    assert.equal(target.body.error, 'invalid_target');
    const wrong = await postForm(
      `${t.url}/oauth2/token`,
      { grant_type: 'client_credentials' },
      {
        authorization: basic(c.client_id, 'nope'),
      },
    );
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'invalid_client');
    assert.match(wrong.headers.get('www-authenticate') ?? '', /^Basic/);
  });

  test('DPoP with server nonces: DPoP token bound to the key; a DPoP-only client gets no Bearer token', async () => {
    const c = await addClient(t, { scopes: ['read'], audiences: [API], dpopBound: true });
    const client: oauth.Client = { client_id: c.client_id };
    const keyPair = await oauth.generateKeyPair('ES256');
    const DPoP = oauth.DPoP(client, keyPair);
    const request = () =>
      oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretPost(c.client_secret), new URLSearchParams(), {
        ...insecure,
        DPoP,
      });
    let tok: oauth.TokenEndpointResponse;
    try {
      tok = await oauth.processClientCredentialsResponse(as, client, await request());
      assert.fail('the first request has no nonce and must be refused');
    } catch (e) {
      assert.ok(oauth.isDPoPNonceError(e), `expected use_dpop_nonce, got ${String(e)}`);
      tok = await oauth.processClientCredentialsResponse(as, client, await request());
    }
    assert.equal(tok.token_type, 'dpop');
    const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey));
    const claims = JSON.parse(Buffer.from(tok.access_token.split('.')[1]!, 'base64url').toString());
    assert.deepEqual(claims.cnf, { jkt });

    const plain = await postForm(
      `${t.url}/oauth2/token`,
      { grant_type: 'client_credentials' },
      {
        authorization: basic(c.client_id, c.client_secret),
      },
    );
    assert.equal(plain.status, 400);
    assert.equal(plain.body.error, 'invalid_dpop_proof');
  });

  test('refresh: rotated on every use; reusing a spent one revokes the whole family and is logged', async () => {
    const c = await addClient(t, {
      scopes: ['read', 'write'],
      audiences: [API],
      grantTypes: ['client_credentials', 'refresh_token'],
    });
    const client = { client_id: c.client_id };
    const auth = oauth.ClientSecretBasic(c.client_secret);
    const first = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams(), insecure),
    );
    const rt1 = first.refresh_token!;
    assert.match(rt1, /^writ_rt_/);
    const second = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, auth, rt1, {
        ...insecure,
        additionalParameters: { scope: 'read' },
      }),
    );
    assert.notEqual(second.refresh_token, rt1, 'rotated');
    assert.equal(second.scope, 'read', 'narrowed on refresh');
    // Reuse of the spent token: refused, and the live one from the same family dies too.
    await assert.rejects(
      oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, auth, rt1, insecure),
      ),
      (e: oauth.ResponseBodyError) => e.error === 'invalid_grant',
    );
    await assert.rejects(
      oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, auth, second.refresh_token!, insecure),
      ),
      (e: oauth.ResponseBodyError) => e.error === 'invalid_grant',
    );
    for (const token of [first.access_token, second.access_token]) {
      const r = await oauth.processIntrospectionResponse(
        as,
        client,
        await oauth.introspectionRequest(as, client, auth, token, insecure),
      );
      assert.equal(r.active, false);
    }
    const records = await ledgerRecords(t);
    const reuse = records.filter(
      (r) => r.record.type === 'token.revoked' && (r.record as { reason: string }).reason === 'refresh_token_reuse',
    );
    assert.ok(reuse.length >= 4, 'the family revocation and its cascade are logged');
  });

  test('token exchange: audience and scope only narrow, lifetime never exceeds the parent, the record names its parent', async () => {
    const c = await addClient(t, {
      scopes: ['read', 'write'],
      audiences: [API, OTHER],
      grantTypes: ['client_credentials', EXCHANGE],
    });
    const client = { client_id: c.client_id };
    const auth = oauth.ClientSecretBasic(c.client_secret);
    const parent = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams(), insecure),
    );
    const actor = await addClient(t, { scopes: ['read'], audiences: [API] });
    const actorToken = (
      await postForm(
        `${t.url}/oauth2/token`,
        { grant_type: 'client_credentials' },
        {
          authorization: basic(actor.client_id, actor.client_secret),
        },
      )
    ).body.access_token as string;
    const exchange = (params: Record<string, string>) =>
      oauth.genericTokenEndpointRequest(
        as,
        client,
        auth,
        EXCHANGE,
        new URLSearchParams({ subject_token: parent.access_token, subject_token_type: ACCESS_TOKEN_TYPE, ...params }),
        insecure,
      );
    const child = await oauth.processGenericTokenEndpointResponse(
      as,
      client,
      await exchange({ audience: API, scope: 'read', actor_token: actorToken, actor_token_type: ACCESS_TOKEN_TYPE }),
    );
    assert.equal(child.issued_token_type, ACCESS_TOKEN_TYPE);
    const p = JSON.parse(Buffer.from(parent.access_token.split('.')[1]!, 'base64url').toString());
    const k = JSON.parse(Buffer.from(child.access_token.split('.')[1]!, 'base64url').toString());
    assert.equal(k.aud, API);
    assert.equal(k.scope, 'read');
    assert.equal(k.sub, p.sub);
    assert.deepEqual(k.act, { sub: actor.client_id });
    assert.ok(k.exp <= p.exp);
    const [entry] = await t.server.svc.ledger.entries(k.provenance.index, k.provenance.index + 1);
    assert.equal((decodeRecord(entry!.data) as { parent_jti: string }).parent_jti, p.jti);

    await assert.rejects(
      oauth.processGenericTokenEndpointResponse(as, client, await exchange({ scope: 'read admin' })),
      (e: oauth.ResponseBodyError) => e.error === 'invalid_scope',
    );
    const childOnly = await oauth.processGenericTokenEndpointResponse(as, client, await exchange({ audience: API }));
    const grandchild = await oauth
      .processGenericTokenEndpointResponse(
        as,
        client,
        await oauth.genericTokenEndpointRequest(
          as,
          client,
          auth,
          EXCHANGE,
          new URLSearchParams({
            subject_token: childOnly.access_token,
            subject_token_type: ACCESS_TOKEN_TYPE,
            audience: OTHER,
          }),
          insecure,
        ),
      )
      .catch((e: oauth.ResponseBodyError) => e);
    assert.equal(
      (grandchild as oauth.ResponseBodyError).error,
      'invalid_target',
      'cannot widen back to a dropped audience',
    );

    // Revoking the parent revokes what was derived from it.
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, auth, parent.access_token, insecure),
    );
    for (const token of [parent.access_token, child.access_token, childOnly.access_token]) {
      const r = await oauth.processIntrospectionResponse(
        as,
        client,
        await oauth.introspectionRequest(as, client, auth, token, insecure),
      );
      assert.equal(r.active, false);
    }
  });

  test('jwt-bearer: an assertion from a trusted identity provider yields a token for its subject', async () => {
    const c = await addClient(t, {
      scopes: ['read'],
      audiences: [API],
      grantTypes: ['urn:ietf:params:oauth:grant-type:jwt-bearer'],
    });
    const client = { client_id: c.client_id };
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', kid: 'idp-1' })
      .setIssuer(idp)
      .setSubject('alice@idp')
      .setAudience(`${t.url}/oauth2/token`)
      .setIssuedAt()
      .setJti('assertion-1')
      .setExpirationTime('2m')
      .sign(idpKey.privateKey);
    const grant = (a: string) =>
      oauth.genericTokenEndpointRequest(
        as,
        client,
        oauth.ClientSecretBasic(c.client_secret),
        'urn:ietf:params:oauth:grant-type:jwt-bearer',
        new URLSearchParams({ assertion: a }),
        insecure,
      );
    const tok = await oauth.processGenericTokenEndpointResponse(as, client, await grant(assertion));
    const claims = JSON.parse(Buffer.from(tok.access_token.split('.')[1]!, 'base64url').toString());
    assert.equal(claims.sub, 'alice@idp');
    // The subject is pseudonymised in the ledger, never written in clear.
    const [entry] = await t.server.svc.ledger.entries(claims.provenance.index, claims.provenance.index + 1);
    assert.ok(!entry!.data.toString().includes('alice'));
    await assert.rejects(
      oauth.processGenericTokenEndpointResponse(as, client, await grant(assertion)),
      (e: oauth.ResponseBodyError) => e.error === 'invalid_grant',
      'single use',
    );
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', kid: 'idp-1' })
      .setIssuer(idp)
      .setSubject('mallory')
      .setAudience(`${t.url}/oauth2/token`)
      .setExpirationTime('2m')
      .sign(generateKeyPairSync('ed25519').privateKey);
    await assert.rejects(
      oauth.processGenericTokenEndpointResponse(as, client, await grant(forged)),
      (e: oauth.ResponseBodyError) => e.error === 'invalid_grant',
    );
  });

  test('introspection and revocation: authenticated clients only; revocation is in the ledger before the 200', async () => {
    const c = await addClient(t, { scopes: ['read'], audiences: [API] });
    const client = { client_id: c.client_id };
    const auth = oauth.ClientSecretBasic(c.client_secret);
    const tok = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams(), insecure),
    );
    const active = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, auth, tok.access_token, insecure),
    );
    assert.equal(active.active, true);
    assert.equal(active.client_id, c.client_id);
    assert.ok((active as { provenance?: { index: number } }).provenance);
    const anonymous = await postForm(`${t.url}/oauth2/introspect`, { token: tok.access_token });
    assert.equal(anonymous.status, 401);

    const before = await t.server.svc.ledger.size();
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, tok.access_token, insecure));
    const records = await t.server.svc.ledger.entries(before, before + 10);
    const jti = JSON.parse(Buffer.from(tok.access_token.split('.')[1]!, 'base64url').toString()).jti;
    assert.ok(
      records.some((e) => {
        const r = decodeRecord(e.data) as { type: string; target?: { value: unknown } };
        return r.type === 'token.revoked' && r.target?.value === jti;
      }),
    );
    const inactive = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, auth, tok.access_token, insecure),
    );
    assert.deepEqual(inactive, { active: false });
    // Unknown tokens: still 200 (RFC 7009 §2.2).
    const unknown = await postForm(
      `${t.url}/oauth2/revoke`,
      { token: 'garbage' },
      { authorization: basic(c.client_id, c.client_secret) },
    );
    assert.equal(unknown.status, 200);
  });

  test('bad requests get RFC 6749 errors, never a 500', async () => {
    const c = await addClient(t, { scopes: ['read'], audiences: [API] });
    const auth = { authorization: basic(c.client_id, c.client_secret) };
    const cases: Array<[Record<string, string>, Record<string, string>, number, string]> = [
      [{}, auth, 400, 'invalid_request'],
      [{ grant_type: 'password' }, auth, 400, 'unsupported_grant_type'],
      [{ grant_type: EXCHANGE }, auth, 400, 'unauthorized_client'],
      [{ grant_type: 'client_credentials' }, { authorization: 'Basic !!!' }, 401, 'invalid_client'],
      [{ grant_type: 'client_credentials', client_secret: 'x' }, auth, 400, 'invalid_request'],
      [{ grant_type: 'client_credentials' }, { ...auth, dpop: 'not.a.proof' }, 400, 'invalid_dpop_proof'],
      [{ grant_type: 'client_credentials', authorization_details: '[{' }, auth, 400, 'invalid_authorization_details'],
    ];
    for (const [form, headers, status, error] of cases) {
      const r = await postForm(`${t.url}/oauth2/token`, form, headers);
      assert.equal(r.status, status, JSON.stringify(form));
      assert.equal(r.body.error, error, JSON.stringify(form));
    }
    const repeated = await fetch(`${t.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth },
      body: 'grant_type=client_credentials&grant_type=client_credentials',
    });
    assert.equal(repeated.status, 400);
    const json = await fetch(`${t.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: '{"grant_type":',
    });
    assert.equal(json.status, 400);
    const huge = await fetch(`${t.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth },
      body: `grant_type=client_credentials&scope=${'a'.repeat(200_000)}`,
    });
    assert.equal(huge.status, 413);
    const ledger = await fetch(`${t.url}/ledger/proof/inclusion?index=-1&size=x`);
    assert.equal(ledger.status, 400);
    const admin = await fetch(`${t.url}/admin/clients`);
    assert.equal(admin.status, 401);
    assert.match(admin.headers.get('www-authenticate') ?? '', /^Bearer realm="writ", DPoP realm="writ"/);
    const revokeNothing = await adminCall(t, 'POST', '/admin/revoke', { jti: 1 });
    assert.equal(revokeNothing.status, 400);
  });

  test('the ledger holds every flow and the audit verifies it; a restart keeps everything', async () => {
    const records = await ledgerRecords(t);
    const types = new Set(records.map((r) => r.record.type));
    for (const type of ['token.issued', 'token.revoked', 'client.changed', 'key.epoch_published']) {
      assert.ok(types.has(type as LedgerRecord['type']), `a ${type} record`);
    }
    await t.stop();
    await t.restart();
    assert.equal(await t.server.svc.ledger.size(), records.length);
    await t.server.svc.ledger.checkpoint();
    const { ok, problems } = await auditOf(t);
    assert.ok(ok, JSON.stringify(problems));
  });
}

async function auditOf(t: TestServer): Promise<{ ok: boolean; problems: unknown }> {
  const svc = t.server.svc;
  const report = await auditLedger({ ...svc.ledgerStores, verifierKey: svc.ledger.verifierKey });
  return { ok: report.ok, problems: report };
}

describe('OAuth end to end on SQLite', () => suite('sqlite'));

describe('OAuth end to end on PostgreSQL', async () => {
  const skip = await postgresSkipReason();
  if (skip) {
    test('PostgreSQL', { skip }, () => {});
    return;
  }
  suite('postgres');
});
