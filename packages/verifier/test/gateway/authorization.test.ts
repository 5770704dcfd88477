// Request credentials (RFC 6750 §2.1, RFC 9449 §4.3 check 1), request URLs, and challenges (RFC 6750 §3,
// RFC 9449 §7.1), without a server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  errorResponse,
  type GatewayRequest,
  presentedScheme,
  readCredentials,
  requestUrl,
} from '../../src/gateway/index.js';
import { WritError } from '../../src/index.js';

const req = (headers: GatewayRequest['headers'], extra: Partial<GatewayRequest> = {}): GatewayRequest => ({
  method: 'GET',
  url: '/r',
  headers,
  ...extra,
});

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof WritError && e.code === code, `expected ${code}`);
}

test('credentials: Bearer and DPoP, any case, token68 only', () => {
  assert.deepEqual(readCredentials(req({ authorization: 'Bearer abc.DEF-_~+/==' })), {
    scheme: 'Bearer',
    token: 'abc.DEF-_~+/==',
    dpopProof: undefined,
  });
  assert.equal(readCredentials(req({ authorization: 'bEaReR   t' })).token, 't');
  assert.deepEqual(readCredentials(req({ authorization: 'DPoP t', dpop: 'p.r.f' })), {
    scheme: 'DPoP',
    token: 't',
    dpopProof: 'p.r.f',
  });
  throwsCode(() => readCredentials(req({})), 'ERR_TOKEN_MISSING');
  throwsCode(() => readCredentials(req({ authorization: 'Basic dTpw' })), 'ERR_TOKEN_MISSING');
  throwsCode(() => readCredentials(req({ authorization: '' })), 'ERR_TOKEN_MISSING');
  for (const bad of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer a=b', 'Bearer "a"', 'Bearer a,b', 'Bearer \u00e9']) {
    throwsCode(() => readCredentials(req({ authorization: bad })), 'ERR_TOKEN_MALFORMED');
  }
  throwsCode(() => readCredentials(req({ authorization: `Bearer ${'a'.repeat(8193)}` })), 'ERR_TOKEN_TOO_LARGE');
  assert.equal(readCredentials(req({ authorization: `Bearer ${'a'.repeat(100)}` }), 100).token.length, 100);
  throwsCode(() => readCredentials(req({ authorization: `Bearer ${'a'.repeat(101)}` }), 100), 'ERR_TOKEN_TOO_LARGE');
});

test('credentials: repeated fields are seen in rawHeaders even where Node keeps one', () => {
  const rawHeaders = ['Host', 'x', 'Authorization', 'Bearer a', 'authorization', 'Bearer b'];
  throwsCode(() => readCredentials(req({ authorization: 'Bearer a' }, { rawHeaders })), 'ERR_INVALID_REQUEST');
  throwsCode(() => readCredentials(req({ authorization: ['Bearer a', 'Bearer b'] })), 'ERR_INVALID_REQUEST');
  const proofs = ['Authorization', 'DPoP t', 'DPoP', 'x.y.z', 'dpop', 'x.y.z'];
  throwsCode(() => readCredentials(req({ authorization: 'DPoP t' }, { rawHeaders: proofs })), 'ERR_DPOP_PROOF_INVALID');
  // Raw values are trimmed of optional whitespace as Node's parsed headers are.
  const one = readCredentials(req({}, { rawHeaders: ['Authorization', 'Bearer t \t'] }));
  assert.equal(one.token, 't');
});

test('credentials: a token in the query string or the body is refused', () => {
  const h = { authorization: 'Bearer t' };
  throwsCode(() => readCredentials(req(h, { url: '/r?x=1&access_token=t' })), 'ERR_INVALID_REQUEST');
  throwsCode(() => readCredentials(req({}, { url: '/r?access_token=t' })), 'ERR_INVALID_REQUEST');
  throwsCode(() => readCredentials(req(h, { body: { access_token: 't' } })), 'ERR_INVALID_REQUEST');
  assert.equal(readCredentials(req(h, { url: '/r?not_access_token=1' })).token, 't');
  assert.equal(readCredentials(req(h, { url: '/access_token?x=1', body: 'access_token=t' })).token, 't');
});

test('credentials: arbitrary header values give a WritError or credentials, nothing else', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), fc.option(fc.string({ maxLength: 50 })), (auth, dpop) => {
      const headers: Record<string, string> = { authorization: auth };
      if (dpop !== null) headers.dpop = dpop;
      try {
        const c = readCredentials(req(headers));
        assert.ok(c.token.length > 0);
      } catch (e) {
        assert.ok(e instanceof WritError && e.status < 500);
      }
    }),
  );
});

test('presented scheme, for the challenge of a refusal', () => {
  assert.equal(presentedScheme(req({ authorization: 'dpop x' })), 'DPoP');
  assert.equal(presentedScheme(req({ authorization: 'Bearer' })), 'Bearer');
  assert.equal(presentedScheme(req({ authorization: 'Basic x' })), undefined);
  assert.equal(presentedScheme(req({})), undefined);
});

test('request URL: configured origin, Host, or trusted X-Forwarded-*', () => {
  const r = req({ host: 'api.example:8443', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'public.example, b' });
  assert.equal(requestUrl({ ...r, url: '/a/b?c=d' }), 'http://api.example:8443/a/b?c=d');
  assert.equal(requestUrl({ ...r, socket: { encrypted: true } }), 'https://api.example:8443/r');
  assert.equal(requestUrl(r, { trustForwarded: true }), 'https://public.example/r');
  assert.equal(requestUrl(r, { origin: 'https://api.example' }), 'https://api.example/r');
  assert.equal(requestUrl({ ...r, url: 'http://evil.example/x?y' }), 'http://api.example:8443/x?y');
  assert.equal(requestUrl(req({ host: '[::1]:80' })), 'http://[::1]:80/r');
  throwsCode(() => requestUrl(req({})), 'ERR_INVALID_REQUEST');
  throwsCode(() => requestUrl(req({ host: 'a b' })), 'ERR_INVALID_REQUEST');
  throwsCode(() => requestUrl(req({ host: 'a/b' })), 'ERR_INVALID_REQUEST');
  throwsCode(() => requestUrl(req({ host: 'x' }, { url: '*' })), 'ERR_INVALID_REQUEST');
  throwsCode(() => requestUrl(req({ host: 'x' }, { rawHeaders: ['Host', 'a', 'Host', 'b'] })), 'ERR_INVALID_REQUEST');
  throwsCode(
    () => requestUrl(req({ host: 'x', 'x-forwarded-proto': 'ftp' }), { trustForwarded: true }),
    'ERR_INVALID_REQUEST',
  );
});

test('challenges: bare without a token, error parameters with one, DPoP for proof errors, scope for 403', () => {
  const missing = errorResponse(new WritError('ERR_TOKEN_MISSING'), { realm: 'api', scheme: 'Bearer' });
  assert.equal(missing.status, 401);
  assert.equal(missing.headers['www-authenticate'], 'Bearer realm="api", DPoP realm="api", algs="EdDSA ES256"');
  assert.deepEqual(missing.body, { error: 'invalid_request', error_description: 'No access token was presented' });

  const expired = errorResponse(new WritError('ERR_JWT_EXPIRED', { detail: 'secret detail' }), { scheme: 'Bearer' });
  assert.equal(
    expired.headers['www-authenticate'],
    'Bearer error="invalid_token", error_description="The access token expired"',
  );
  assert.ok(!JSON.stringify(expired).includes('secret detail'));

  const scope = errorResponse(new WritError('ERR_INSUFFICIENT_SCOPE', { scope: 'a b' }), { realm: 'r"\\' });
  assert.equal(scope.status, 403);
  assert.equal(
    scope.headers['www-authenticate'],
    'Bearer realm="r\\"\\\\", error="insufficient_scope", error_description="The access token lacks a required scope", scope="a b"',
  );

  const nonce = errorResponse(new WritError('ERR_DPOP_NONCE_REQUIRED', { dpopNonce: 'n1' }), {
    scheme: 'Bearer',
    dpopAlgorithms: ['ES256'],
  });
  assert.equal(nonce.headers['dpop-nonce'], 'n1');
  assert.equal(
    nonce.headers['www-authenticate'],
    'DPoP error="use_dpop_nonce", error_description="A DPoP nonce is required", algs="ES256"',
  );

  const stale = errorResponse(new WritError('ERR_REVOCATION_UNAVAILABLE', { retryAfter: 1 }));
  assert.equal(stale.status, 503);
  assert.equal(stale.headers['retry-after'], '1');
  assert.equal(stale.headers['www-authenticate'], undefined);

  const bad = errorResponse(new WritError('ERR_INVALID_REQUEST'));
  assert.equal(bad.status, 400);
  assert.equal(
    bad.headers['www-authenticate'],
    'Bearer error="invalid_request", error_description="The request is invalid"',
  );

  const internal = errorResponse(new TypeError('boom at /secret/path'));
  assert.equal(internal.status, 500);
  assert.deepEqual(internal.body, { error: 'server_error', error_description: 'Internal error' });
  assert.equal(internal.headers['cache-control'], 'no-store');
});
