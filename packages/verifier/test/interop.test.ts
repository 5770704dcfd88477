// Interop: tokens Writ issues verify with jose's jwtVerify against Writ's published JWKS, with typ, algorithms and
// required claims set. (DPoP interop the other way is in dpop.test.ts.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as jose from 'jose';
import { AUDIENCE, ISSUER, request, schedule, signer, T0 } from './helpers/core.js';

test('Writ-signed access tokens verify with jose jwtVerify + createLocalJWKSet(writ jwks)', async () => {
  for (const alg of ['EdDSA', 'ES256'] as const) {
    const keys = schedule({ alg });
    const s = signer(keys);
    const claims = { ...s.claims(request({ cnf: { jkt: 'x' } })), provenance: { log: 'writ.example/log', index: 3 } };
    for (const { token } of [s.sign(claims), await s.signAsync(claims)]) {
      const jwks = jose.createLocalJWKSet(structuredClone(keys.jwks()) as jose.JSONWebKeySet);
      const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, {
        issuer: ISSUER,
        audience: AUDIENCE,
        typ: 'at+jwt',
        algorithms: [alg],
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'client_id'],
        currentDate: new Date(T0),
      });
      assert.deepEqual(payload, claims);
      assert.equal(protectedHeader.kid, keys.signingKey().kid);
      assert.equal(await jose.calculateJwkThumbprint(keys.jwks().keys[0] as jose.JWK), protectedHeader.kid);
    }
  }
});
