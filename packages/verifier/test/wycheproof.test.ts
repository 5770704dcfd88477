// Wycheproof vectors (C2SP/wycheproof) for the primitives Writ builds on: HKDF-SHA256, HMAC-SHA256 (through the
// HS256 check), Ed25519 and ECDSA P-256 in IEEE P1363 form (through the JWS signature check). Valid and acceptable
// vectors must pass, invalid ones must fail.
import assert from 'node:assert/strict';
import { createPublicKey, createSecretKey, hkdfSync } from 'node:crypto';
import { test } from 'node:test';
import { verifyMac, verifySignature } from '../src/core/_alg.js';
import { readVector } from './helpers/core.js';

interface Suite<T> {
  testGroups: Array<{ tests: T[]; publicKeyDer?: string; tagSize?: number }>;
}
type Result = 'valid' | 'invalid' | 'acceptable';
const hex = (s: string) => Buffer.from(s, 'hex');

test('HKDF-SHA256 (Wycheproof)', () => {
  const suite = readVector('wycheproof/hkdf_sha256_test.json') as Suite<{
    tcId: number;
    ikm: string;
    salt: string;
    info: string;
    size: number;
    okm: string;
    result: Result;
  }>;
  let n = 0;
  for (const g of suite.testGroups) {
    for (const t of g.tests) {
      n++;
      let okm: Buffer | undefined;
      try {
        okm = Buffer.from(hkdfSync('sha256', hex(t.ikm), hex(t.salt), hex(t.info), t.size));
      } catch {
        okm = undefined;
      }
      if (t.result === 'invalid') assert.ok(okm === undefined || okm.toString('hex') !== t.okm, `tcId ${t.tcId}`);
      else assert.equal(okm?.toString('hex'), t.okm, `tcId ${t.tcId}`);
    }
  }
  assert.ok(n > 50);
});

test('HMAC-SHA256 (Wycheproof) through the HS256 check', () => {
  const suite = readVector('wycheproof/hmac_sha256_test.json') as Suite<{
    tcId: number;
    key: string;
    msg: string;
    tag: string;
    result: Result;
  }>;
  let checked = 0;
  for (const g of suite.testGroups) {
    for (const t of g.tests) {
      const key = hex(t.key);
      // HS256 in JOSE is the full 256-bit tag with a key of at least 256 bits (RFC 7518 §3.2); shorter tags and
      // keys are never accepted, so only full-length cases say something about the check.
      if (g.tagSize !== 256 || key.length === 0) {
        assert.equal(verifyMac(createSecretKey(key.length ? key : Buffer.alloc(1)), hex(t.msg), hex(t.tag)), false);
        continue;
      }
      checked++;
      assert.equal(verifyMac(createSecretKey(key), hex(t.msg), hex(t.tag)), t.result !== 'invalid', `tcId ${t.tcId}`);
    }
  }
  assert.ok(checked > 20);
});

async function signatureSuite(file: string, alg: 'EdDSA' | 'ES256'): Promise<number> {
  const suite = readVector(file) as Suite<{ tcId: number; msg: string; sig: string; result: Result }>;
  let n = 0;
  for (const g of suite.testGroups) {
    const key = createPublicKey({ key: hex(g.publicKeyDer!), format: 'der', type: 'spki' });
    for (const t of g.tests) {
      n++;
      const ok = await verifySignature(alg, key, hex(t.msg), hex(t.sig));
      assert.equal(ok, t.result !== 'invalid', `${file} tcId ${t.tcId}`);
    }
  }
  return n;
}

test('Ed25519 (Wycheproof) through the JWS signature check', async () => {
  assert.ok((await signatureSuite('wycheproof/ed25519_test.json', 'EdDSA')) > 100);
});

test('ECDSA P-256 SHA-256 P1363 (Wycheproof) through the JWS signature check', async () => {
  assert.ok((await signatureSuite('wycheproof/ecdsa_secp256r1_sha256_p1363_test.json', 'ES256')) > 200);
});
