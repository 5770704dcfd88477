/**
 * The exact shape of each record type: which members it must have, which it may have, and what each may hold.
 * Both writing and reading go through {@link validateRecord}, so a record the ledger accepts always decodes, and a
 * stored record with an unknown or missing member is refused rather than guessed at.
 * @module
 */
import { WritError } from '../errors.js';
import { isJsonObject } from '../json.js';
import { type LedgerRecord, RECORD_VERSION, type RecordType } from './types.js';

type Check = (value: unknown, path: string) => void;

function invalid(path: string, what: string): never {
  throw new WritError('ERR_RECORD_INVALID', { detail: `${path}: ${what}` });
}

/** A non-empty string of at most `max` characters without control characters. */
const text =
  (max = 256): Check =>
  (v, path) => {
    if (typeof v !== 'string' || v.length === 0 || v.length > max || /[\u0000-\u001f\u007f]/.test(v)) {
      invalid(path, `expected a string of 1..${max} printable characters`);
    }
  };

const matching =
  (re: RegExp, what: string): Check =>
  (v, path) => {
    if (typeof v !== 'string' || !re.test(v)) invalid(path, `expected ${what}`);
  };

const integer: Check = (v, path) => {
  if (!Number.isSafeInteger(v) || (v as number) < 0) invalid(path, 'expected a non-negative integer');
};

const oneOf =
  (...values: readonly unknown[]): Check =>
  (v, path) => {
    if (!values.includes(v)) invalid(path, `expected one of ${values.join(', ')}`);
  };

const list =
  (item: Check, min: number, max = 64): Check =>
  (v, path) => {
    if (!Array.isArray(v) || v.length < min || v.length > max) invalid(path, `expected ${min}..${max} items`);
    for (let i = 0; i < v.length; i++) item(v[i], `${path}[${i}]`);
  };

/** An object with exactly the `required` members and any of the `optional` ones. */
const object =
  (required: Record<string, Check>, optional: Record<string, Check> = {}): Check =>
  (v, path) => {
    if (!isJsonObject(v)) invalid(path, 'expected an object');
    for (const [k, check] of Object.entries(required)) {
      if (!(k in v)) invalid(path, `missing member ${k}`);
      check(v[k], `${path}.${k}`);
    }
    for (const [k, x] of Object.entries(v)) {
      if (k in required) continue;
      const check = optional[k];
      if (!check) invalid(path, `unexpected member ${k}`);
      check(x, `${path}.${k}`);
    }
  };

/** base64url of 32 bytes: SHA-256 digests, RFC 7638 thumbprints, pseudonyms. */
const digest = matching(/^[A-Za-z0-9_-]{43}$/, 'base64url of 32 bytes');
const code = matching(/^[a-z0-9_]{1,64}$/, 'a lower-case code');

const target: Check = (v, path) => {
  if (!isJsonObject(v)) invalid(path, 'expected an object');
  const numeric = v.kind === 'epoch' || v.kind === 'generation';
  const value = v.kind === 'subject' ? digest : numeric ? integer : text(1024);
  object({ kind: oneOf('jti', 'subject', 'client', 'family', 'epoch', 'generation'), value })(v, path);
};

const actor: Check = (v, path) => {
  if (!isJsonObject(v)) invalid(path, 'expected an object');
  if (v.kind === 'system') return object({ kind: oneOf('system') })(v, path);
  object({ kind: oneOf('admin', 'client', 'subject'), id: v.kind === 'subject' ? digest : text() })(v, path);
};

const cnf: Check = (v, path) => {
  if (isJsonObject(v) && 'jkt' in v) return object({ jkt: digest })(v, path);
  object({ 'x5t#S256': digest })(v, path);
};

const base = { v: oneOf(RECORD_VERSION), type: text(), time: integer };
const change = { action: oneOf('created', 'updated', 'deleted', 'secret_rotated'), actor };

const SCHEMAS: Record<RecordType, Check> = {
  'token.issued': object(
    {
      ...base,
      jti: text(),
      token_kind: oneOf('access', 'refresh'),
      format: oneOf('jwt', 'opaque'),
      client_id: text(),
      aud: list(text(1024), 1),
      iat: integer,
      exp: integer,
      claims_hash: digest,
      grant_type: text(),
    },
    {
      subject: digest,
      scope: text(4096),
      kid: text(),
      epoch: integer,
      generation: integer,
      parent_jti: text(),
      cnf,
    },
  ),
  'token.used': (v, path) => {
    object(
      { ...base, jti: text(), audience: text(1024), decision: oneOf('allow', 'deny') },
      { error: matching(/^ERR_[A-Z0-9_]{1,60}$/, 'a Writ error code'), context_hash: digest },
    )(v, path);
    const r = v as { decision: string; error?: string };
    if ((r.decision === 'deny') !== (r.error !== undefined)) invalid(path, 'error goes with a deny decision');
  },
  'token.revoked': object({ ...base, target, reason: code, actor }, { cascade_origin: target }),
  'key.epoch_published': object({
    ...base,
    epoch: integer,
    generation: integer,
    kid: text(),
    alg: matching(/^[A-Za-z0-9-]{1,32}$/, 'an algorithm name'),
  }),
  'key.generation_retired': object({ ...base, generation: integer, actor }),
  'client.changed': object({ ...base, ...change, client_id: text() }, { fields: list(code, 1) }),
  'admin.changed': object({ ...base, ...change, admin_id: text() }, { fields: list(code, 1) }),
};

/** Checks that `value` is exactly a record of a known type; throws `ERR_RECORD_INVALID` saying where it is not. */
export function validateRecord(value: unknown): LedgerRecord {
  if (!isJsonObject(value)) invalid('$', 'expected an object');
  const schema = Object.hasOwn(SCHEMAS, value.type as string) ? SCHEMAS[value.type as RecordType] : undefined;
  if (!schema) invalid('$.type', 'unknown record type');
  schema(value, '$');
  return value as unknown as LedgerRecord;
}
