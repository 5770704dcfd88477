/**
 * The exact shape of each record type: which members it must have, which it may have, and what each may hold.
 * Both writing and reading go through {@link validateRecord}, so a record the ledger accepts always decodes, and a
 * stored record with an unknown or missing member is refused rather than guessed at.
 *
 * A check returns undefined when the value is good, else where (below the value) and what is wrong, so that the
 * path of a failure is only built when there is one: validation runs on every append.
 * @module
 */
import { WritError } from '../errors.js';
import { isJsonObject } from '../json.js';
import { type LedgerRecord, RECORD_VERSION, type RecordType } from './types.js';

type Check = (value: unknown) => string | undefined;

/** A non-empty string of at most `max` characters without control characters. */
const text =
  (max = 256): Check =>
  (v) =>
    typeof v !== 'string' || v.length === 0 || v.length > max || /[\u0000-\u001f\u007f]/.test(v)
      ? `: expected a string of 1..${max} printable characters`
      : undefined;

const matching =
  (re: RegExp, what: string): Check =>
  (v) =>
    typeof v !== 'string' || !re.test(v) ? `: expected ${what}` : undefined;

/** Repeated uses folded into one record: at least two (one use is a record without `count`). */
const atLeastTwo: Check = (v) =>
  Number.isSafeInteger(v) && (v as number) >= 2 ? undefined : ': expected an integer >= 2';

const integer: Check = (v) =>
  Number.isSafeInteger(v) && (v as number) >= 0 ? undefined : ': expected a non-negative integer';

const oneOf =
  (...values: readonly unknown[]): Check =>
  (v) =>
    values.includes(v) ? undefined : `: expected one of ${values.join(', ')}`;

const list =
  (item: Check, min: number, max = 64): Check =>
  (v) => {
    if (!Array.isArray(v) || v.length < min || v.length > max) return `: expected ${min}..${max} items`;
    for (let i = 0; i < v.length; i++) {
      const bad = item(v[i]);
      if (bad) return `[${i}]${bad}`;
    }
    return undefined;
  };

/** An object with exactly the `required` members and any of the `optional` ones. */
const object = (required: Record<string, Check>, optional: Record<string, Check> = {}): Check => {
  const must = Object.keys(required);
  const all = new Map([...Object.entries(optional), ...Object.entries(required)]);
  return (v) => {
    if (!isJsonObject(v)) return ': expected an object';
    for (const k of must) if (!(k in v)) return `: missing member ${k}`;
    for (const k in v) {
      const check = all.get(k);
      if (!check) return `: unexpected member ${k}`;
      const bad = check(v[k]);
      if (bad) return `.${k}${bad}`;
    }
    return undefined;
  };
};

/** base64url of 32 bytes: SHA-256 digests, RFC 7638 thumbprints, pseudonyms. */
const digest = matching(/^[A-Za-z0-9_-]{43}$/, 'base64url of 32 bytes');
const code = matching(/^[a-z0-9_]{1,64}$/, 'a lower-case code');

const targetKinds = oneOf('jti', 'subject', 'client', 'family', 'epoch', 'generation');
const targets = {
  subject: object({ kind: targetKinds, value: digest }),
  number: object({ kind: targetKinds, value: integer }),
  string: object({ kind: targetKinds, value: text(1024) }),
};
const target: Check = (v) => {
  const kind = isJsonObject(v) ? v.kind : undefined;
  const numeric = kind === 'epoch' || kind === 'generation';
  return (kind === 'subject' ? targets.subject : numeric ? targets.number : targets.string)(v);
};

const actors = {
  system: object({ kind: oneOf('system') }),
  subject: object({ kind: oneOf('subject'), id: digest }),
  other: object({ kind: oneOf('admin', 'client'), id: text() }),
};
const actor: Check = (v) => {
  const kind = isJsonObject(v) ? v.kind : undefined;
  return (kind === 'system' ? actors.system : kind === 'subject' ? actors.subject : actors.other)(v);
};

const cnfs = { jkt: object({ jkt: digest }), x5t: object({ 'x5t#S256': digest }) };
const cnf: Check = (v) => (isJsonObject(v) && 'jkt' in v ? cnfs.jkt : cnfs.x5t)(v);

const base = { v: oneOf(RECORD_VERSION), type: text(), time: integer };
const change = { action: oneOf('created', 'updated', 'deleted', 'secret_rotated'), actor };
const used = object(
  { ...base, jti: text(), audience: text(1024), decision: oneOf('allow', 'deny') },
  { error: matching(/^ERR_[A-Z0-9_]{1,60}$/, 'a Writ error code'), context_hash: digest, count: atLeastTwo },
);

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
    { subject: digest, scope: text(4096), kid: text(), epoch: integer, generation: integer, parent_jti: text(), cnf },
  ),
  'token.used': (v) => {
    const bad = used(v);
    if (bad) return bad;
    const r = v as { decision: string; error?: string };
    return (r.decision === 'deny') !== (r.error !== undefined) ? ': error goes with a deny decision' : undefined;
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
  const type = isJsonObject(value) ? value.type : undefined;
  const schema = typeof type === 'string' && Object.hasOwn(SCHEMAS, type) ? SCHEMAS[type as RecordType] : undefined;
  const bad = schema ? schema(value) : '.type: unknown record type';
  if (bad) throw new WritError('ERR_RECORD_INVALID', { detail: `$${bad}` });
  return value as LedgerRecord;
}
