// Strict provenance against the fixture's ledger (real Merkle tree, real signed checkpoints): a logged token is
// proven once and cached; a token signed with the right key but never logged, or whose claims differ from the
// logged ones, is refused with its own code, whatever a lying ledger serves; an unreachable ledger is a 503.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { WritGateway } from '../../src/gateway/index.js';
import { ed25519VerifierKey, WritError } from '../../src/index.js';
import { FRAMEWORKS, gatewayFor } from './helpers/apps.js';
import { type FixtureIssuer, startFixtureIssuer } from './helpers/issuer.js';

let issuer: FixtureIssuer;
let gateway: WritGateway;

before(async () => {
  issuer = await startFixtureIssuer();
  gateway = gatewayFor(issuer, { revocations: false, provenance: { logKey: issuer.ledger.verifierKey } });
  // Other tokens in the log, so proofs have some height.
  for (let i = 0; i < 37; i++) issuer.signLogged({ sub: `other-${i}` });
});
after(async () => {
  await gateway.close();
  await issuer.close();
});

const request = (token: string) => ({
  method: 'GET',
  url: '/r',
  headers: { authorization: `Bearer ${token}`, host: 'api.example' },
});
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());

async function refused(token: string, code: string): Promise<void> {
  await assert.rejects(
    gateway.verifyRequest(request(token)),
    (e: unknown) => e instanceof WritError && e.code === code,
    `expected ${code}`,
  );
}

test('a logged token is proven from the ledger once, then answered from the cache', async () => {
  const token = issuer.signLogged();
  const before = issuer.counts.ledger;
  assert.equal((await gateway.verifyRequest(request(token))).claims.sub, 'user-1');
  assert.equal(issuer.counts.ledger - before, 3, 'checkpoint, entry, inclusion proof');
  await Promise.all(Array.from({ length: 20 }, () => gateway.verifyRequest(request(token))));
  assert.equal(issuer.counts.ledger - before, 3, 'cached');
  // Concurrent first uses of another token share one proof.
  const next = issuer.signLogged();
  const at = issuer.counts.ledger;
  await Promise.all(Array.from({ length: 10 }, () => gateway.verifyRequest(request(next))));
  assert.ok(issuer.counts.ledger - at <= 3);
  assert.ok((gateway.stats.provenance?.proven ?? 0) >= 2);
});

test('a token signed with the right key but never logged is refused (stolen root secret)', async () => {
  await refused(issuer.sign(), 'ERR_PROVENANCE_MISSING');
  // It names an index: the entry there is another token's record.
  const forged = issuer.signClaims({ ...claimsOf(issuer.sign()), provenance: { log: issuer.ledger.origin, index: 5 } });
  await refused(forged, 'ERR_PROVENANCE_UNPROVEN');
  // It names an index beyond the log.
  const beyond = issuer.signClaims({
    ...claimsOf(issuer.sign()),
    provenance: { log: issuer.ledger.origin, index: 10_000 },
  });
  await refused(beyond, 'ERR_PROVENANCE_UNPROVEN');
  // It names another log.
  const elsewhere = issuer.signClaims({
    ...claimsOf(issuer.signLogged()),
    provenance: { log: 'other.example/log', index: 0 },
  });
  await refused(elsewhere, 'ERR_PROVENANCE_UNPROVEN');
});

test("a logged token's jti with other claims (more scope) is refused; the refusal is cached", async () => {
  const logged = issuer.signLogged({ scope: 'read' });
  await gateway.verifyRequest(request(logged));
  const widened = issuer.signClaims({ ...claimsOf(logged), scope: 'read admin' });
  await refused(widened, 'ERR_PROVENANCE_UNPROVEN');
  const at = issuer.counts.ledger;
  await refused(widened, 'ERR_PROVENANCE_UNPROVEN');
  assert.equal(issuer.counts.ledger, at, 'no second round of requests');
  // The original still passes.
  await gateway.verifyRequest(request(logged));
});

test('a lying ledger cannot prove a forged token: its made-up entry is not in the signed tree', async () => {
  const claims = { ...claimsOf(issuer.sign()), provenance: { log: issuer.ledger.origin, index: 3 } };
  const forged = issuer.signClaims(claims);
  issuer.ledgerFaults.forgedEntry = claims;
  try {
    await refused(forged, 'ERR_PROVENANCE_UNPROVEN');
  } finally {
    issuer.ledgerFaults.forgedEntry = undefined;
  }
  // A gateway pinned to another log key believes no checkpoint of this ledger.
  const otherKey = ed25519VerifierKey(issuer.ledger.origin, generateKeyPairSync('ed25519').publicKey);
  const pinnedElsewhere = gatewayFor(issuer, { revocations: false, usage: false, provenance: { logKey: otherKey } });
  try {
    await assert.rejects(
      pinnedElsewhere.verifyRequest(request(issuer.signLogged())),
      (e: unknown) => e instanceof WritError && e.code === 'ERR_PROVENANCE_UNPROVEN',
    );
  } finally {
    await pinnedElsewhere.close();
  }
});

test('an unreachable ledger is a 503, and is not remembered', async () => {
  const token = issuer.signLogged();
  issuer.ledgerFaults.down = true;
  try {
    await refused(token, 'ERR_LEDGER_UNAVAILABLE');
  } finally {
    issuer.ledgerFaults.down = false;
  }
  await gateway.verifyRequest(request(token));
});

test('strict provenance through the middleware: logged allowed, unlogged refused with 401 and logged as a denial', async () => {
  for (const framework of FRAMEWORKS) {
    const app = await framework.start(gateway);
    try {
      const ok = await fetch(`${app.url}/read`, { headers: { authorization: `Bearer ${issuer.signLogged()}` } });
      assert.equal(ok.status, 200);
      const unlogged = issuer.signClaims({
        ...claimsOf(issuer.sign()),
        provenance: { log: issuer.ledger.origin, index: 1 },
      });
      const res = await fetch(`${app.url}/read`, { headers: { authorization: `Bearer ${unlogged}` } });
      assert.equal(res.status, 401);
      assert.match(
        res.headers.get('www-authenticate') ?? '',
        /error="invalid_token", error_description="The access token was not issued through the ledger"/,
      );
    } finally {
      await app.close();
    }
  }
  await gateway.close();
  const denials = issuer.usageEvents.filter((e) => e.code === 'ERR_PROVENANCE_UNPROVEN');
  assert.ok(denials.length >= 2, 'a token minted outside the issuer is worth an entry in the ledger');
});
