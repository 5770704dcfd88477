import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  canonicalBytes,
  decodeRecord,
  encodeRecord,
  type LedgerRecord,
  type TokenIssuedRecord,
  tokenClaimsHash,
} from '../src/index.js';

const P = 'p'.repeat(43); // a pseudonym-shaped value
const D = 'd'.repeat(43); // a digest-shaped value

const issued: TokenIssuedRecord = {
  v: 1,
  type: 'token.issued',
  time: 1_700_000_000_000,
  jti: 'jti-1',
  token_kind: 'access',
  format: 'jwt',
  client_id: 'client-1',
  subject: P,
  aud: ['https://api.example'],
  scope: 'read write',
  iat: 1_700_000_000,
  exp: 1_700_000_600,
  kid: 'k1',
  epoch: 3,
  generation: 1,
  claims_hash: D,
  parent_jti: 'jti-0',
  grant_type: 'refresh_token',
  cnf: { jkt: D },
};

const examples: LedgerRecord[] = [
  issued,
  { v: 1, type: 'token.used', time: 1, jti: 'j', audience: 'https://api.example', decision: 'allow', context_hash: D },
  { v: 1, type: 'token.used', time: 1, jti: 'j', audience: 'a', decision: 'deny', error: 'ERR_TOKEN_REVOKED' },
  {
    v: 1,
    type: 'token.revoked',
    time: 2,
    target: { kind: 'family', value: 'fam-1' },
    cascade_origin: { kind: 'jti', value: 'rt-1' },
    reason: 'refresh_token_reuse',
    actor: { kind: 'system' },
  },
  {
    v: 1,
    type: 'token.revoked',
    time: 2,
    target: { kind: 'epoch', value: 4 },
    reason: 'key_compromise',
    actor: { kind: 'admin', id: 'ops' },
  },
  {
    v: 1,
    type: 'token.revoked',
    time: 2,
    target: { kind: 'subject', value: P },
    reason: 'erasure',
    actor: { kind: 'subject', id: P },
  },
  { v: 1, type: 'key.epoch_published', time: 3, epoch: 5, generation: 1, kid: 'k5', alg: 'EdDSA' },
  { v: 1, type: 'key.generation_retired', time: 4, generation: 0, actor: { kind: 'admin', id: 'ops' } },
  {
    v: 1,
    type: 'client.changed',
    time: 5,
    client_id: 'c',
    action: 'updated',
    fields: ['scopes'],
    actor: { kind: 'admin', id: 'ops' },
  },
  {
    v: 1,
    type: 'client.changed',
    time: 5,
    client_id: 'c',
    action: 'secret_rotated',
    actor: { kind: 'client', id: 'c' },
  },
  { v: 1, type: 'admin.changed', time: 6, admin_id: 'ops', action: 'created', actor: { kind: 'system' } },
];

test('every record type encodes canonically and decodes back to the same value', () => {
  for (const r of examples) {
    const bytes = encodeRecord(r);
    assert.deepEqual(bytes, canonicalBytes(r));
    assert.deepEqual(decodeRecord(bytes), r);
  }
  assert.ok(encodeRecord(issued).toString().startsWith('{"aud":["https://api.example"],"claims_hash":'));
});

test('encoding refuses records that are not exactly of their type', () => {
  const bad: unknown[] = [
    { ...issued, v: 2 },
    { ...issued, type: 'token.minted' },
    { ...issued, token: 'eyJ...' }, // unknown member: no place for a token
    { ...issued, subject: 'alice@example.com' }, // subjects only as pseudonyms
    { ...issued, jti: undefined },
    { ...issued, aud: [] },
    { ...issued, exp: 1.5 },
    { ...issued, iat: -1 },
    { ...issued, cnf: { jkt: D, 'x5t#S256': D } },
    { ...issued, jti: 'a\nb' },
    { ...examples[1], decision: 'deny' }, // deny without an error code
    { ...examples[2], decision: 'allow' }, // error without deny
    { ...examples[3], target: { kind: 'epoch', value: 'four' } },
    { ...examples[3], actor: { kind: 'system', id: 'x' } },
    { ...examples[3], reason: 'Has Spaces' },
    { ...examples[8], fields: [] },
    { ...examples[8], fields: ['x'], secret: 's3cr3t' },
    { ...issued, scope: 'x'.repeat(70_000) },
    null,
    [],
  ];
  for (const r of bad)
    assert.throws(() => encodeRecord(r as LedgerRecord), { code: 'ERR_RECORD_INVALID' }, JSON.stringify(r));
});

test('decoding is strict: canonical bytes only, no duplicates, valid UTF-8', () => {
  const good = encodeRecord(examples[6]!);
  const text = good.toString();
  for (const bad of [
    Buffer.from(` ${text}`),
    Buffer.from(text.replace('{"alg"', '{"alg":"x","alg"')),
    Buffer.from(JSON.stringify(examples[6])), // valid JSON, not canonical member order
    Buffer.concat([good.subarray(0, 5), Buffer.of(0xff), good.subarray(6)]),
    Buffer.from('{"v":1'),
  ]) {
    assert.throws(() => decodeRecord(bad), { code: 'ERR_RECORD_INVALID' }, bad.toString());
  }
});

test('claims hash: SHA-256 of the canonical claims without provenance', () => {
  const claims = { sub: 'alice', iat: 1, aud: ['a'], jti: 'x' };
  const expected = createHash('sha256').update('{"aud":["a"],"iat":1,"jti":"x","sub":"alice"}').digest('base64url');
  assert.equal(tokenClaimsHash(claims), expected);
  assert.equal(tokenClaimsHash({ ...claims, provenance: { log: 'writ.example/ledger', index: 42 } }), expected);
  assert.notEqual(tokenClaimsHash({ ...claims, sub: 'bob' }), expected);
});
