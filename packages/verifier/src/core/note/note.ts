/**
 * C2SP signed notes (https://c2sp.org/signed-note): text signed by one or more keys, each signature on its own
 * line, `— <key name> base64(key ID || signature)`. Writ signs with Ed25519 (signature type 0x01) and names keys
 * with verifier keys, `<name>+<hex key ID>+base64(0x01 || public key)`.
 *
 * Opening a note follows the spec: signatures from unknown keys (a witness's cosignature, a rotated key) are
 * ignored; a signature from a known key must verify or the whole note is refused; at least one known key must have
 * signed; up to {@link MAX_NOTE_SIGNATURES} signatures are accepted.
 * @module
 */
import { createPublicKey, hash, type KeyObject, sign, verify } from 'node:crypto';
import { b64Decode } from '../encoding.js';
import { WritError } from '../errors.js';
import { ed25519FromSeed } from '../keys/derive.js';

/** Signature lines a note may carry: the spec says a verifier must accept at least 16 and should stop somewhere. */
export const MAX_NOTE_SIGNATURES = 16;
/** Largest note accepted, in UTF-16 code units (16 post-quantum signatures of ~5 kB fit). */
const MAX_NOTE_LENGTH = 128 * 1024;
/** Signature type byte of Ed25519 note signatures (signed-note §Signature types). */
const ED25519_TYPE = 0x01;
// SPKI DER prefix of an Ed25519 public key (RFC 8410 §4): the 32-byte key follows.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Signs note text as one key. */
export interface NoteSigner {
  readonly name: string;
  /** The uint32 key ID. */
  readonly keyId: number;
  sign(text: Buffer): Buffer;
}

/** Checks one key's signatures on note text. */
export interface NoteVerifier {
  readonly name: string;
  /** The uint32 key ID. */
  readonly keyId: number;
  verify(text: Buffer, signature: Buffer): boolean;
}

/** One signature line of a note. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  /** The signature bytes (without the key ID). */
  readonly signature: Buffer;
  /** True when a known key checked it; false for signatures from unknown keys, which are ignored. */
  readonly verified: boolean;
}

/** A note whose signatures were checked. */
export interface OpenedNote {
  /** The note text, ending in a newline. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

function invalid(detail: string): never {
  throw new WritError('ERR_NOTE_INVALID', { detail });
}

/** Key names are non-empty and contain no Unicode space and no `+` (signed-note §Format). */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name) && !/[\u0000-\u001f]/.test(name);
}

/** The text rules of a note: UTF-8 (no lone surrogates), no control character but newline. */
function checkNoteText(s: string, what: string): void {
  if (/[\u0000-\u0009\u000b-\u001f]/.test(s)) invalid(`${what} contains a control character`);
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s)) invalid(`${what} is not UTF-8`);
}

/** The Ed25519 key ID: SHA-256(name || 0x0A || 0x01 || public key)[:4], big-endian (signed-note §Ed25519). */
export function ed25519KeyId(name: string, publicKey: Uint8Array): number {
  const digest = hash(
    'sha256',
    Buffer.concat([Buffer.from(name, 'utf8'), Buffer.of(0x0a, ED25519_TYPE), publicKey]),
    'buffer',
  );
  return digest.readUInt32BE(0);
}

function rawPublicKey(key: KeyObject): Buffer {
  const der = key.export({ format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ed25519' || der.length !== 44) invalid('not an Ed25519 public key');
  return der.subarray(12);
}

function hex8(id: number): string {
  return id.toString(16).padStart(8, '0');
}

function verifierFor(name: string, publicKey: KeyObject, raw: Buffer): NoteVerifier {
  return Object.freeze({
    name,
    keyId: ed25519KeyId(name, raw),
    verify: (text: Buffer, signature: Buffer) => signature.length === 64 && verify(null, text, publicKey, signature),
  });
}

/** The verifier key text `<name>+<hex key ID>+base64(0x01 || public key)` of an Ed25519 public key. */
export function ed25519VerifierKey(name: string, publicKey: KeyObject): string {
  if (!isValidKeyName(name)) invalid('invalid key name');
  const raw = rawPublicKey(publicKey);
  return `${name}+${hex8(ed25519KeyId(name, raw))}+${Buffer.concat([Buffer.of(ED25519_TYPE), raw]).toString('base64')}`;
}

/** A signer for an Ed25519 private key under `name`. */
export function ed25519NoteSigner(name: string, privateKey: KeyObject): NoteSigner {
  if (!isValidKeyName(name)) invalid('invalid key name');
  const raw = rawPublicKey(createPublicKey(privateKey));
  return Object.freeze({
    name,
    keyId: ed25519KeyId(name, raw),
    sign: (text: Buffer) => sign(null, text, privateKey),
  });
}

/** Splits `<prefix>name+hexid+base64` and checks the name, the ID's form and the type byte. */
function splitKey(text: string, prefix: string): { name: string; keyId: number; key: Buffer } {
  if (!text.startsWith(prefix)) invalid('malformed key');
  // The name and hex ID contain no `+`; the base64 key may.
  const rest = text.slice(prefix.length);
  const i = rest.indexOf('+');
  const j = rest.indexOf('+', i + 1);
  if (i < 0 || j < 0) invalid('malformed key');
  const [name, id, b64] = [rest.slice(0, i), rest.slice(i + 1, j), rest.slice(j + 1)];
  if (!isValidKeyName(name) || !/^[0-9a-f]{8}$/.test(id)) invalid('malformed key');
  const bytes = b64Decode(b64, 'ERR_NOTE_INVALID');
  if (bytes.length !== 33 || bytes[0] !== ED25519_TYPE) invalid('not an Ed25519 key');
  return { name, keyId: Number.parseInt(id, 16), key: bytes.subarray(1) };
}

/** Parses a verifier key; its key ID must match its name and public key. Throws `ERR_NOTE_INVALID`. */
export function parseVerifierKey(vkey: string): NoteVerifier {
  const { name, keyId, key } = splitKey(vkey.trim(), '');
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, key]), format: 'der', type: 'spki' });
  } catch (cause) {
    throw new WritError('ERR_NOTE_INVALID', { cause, detail: 'not an Ed25519 public key' });
  }
  const v = verifierFor(name, publicKey, key);
  if (v.keyId !== keyId) invalid('key ID does not match the key');
  return v;
}

/** Parses a signer key `PRIVATE+KEY+<name>+<hex key ID>+base64(0x01 || seed)` (the Go sumdb/note format). */
export function parseSignerKey(skey: string): NoteSigner {
  const { name, keyId, key } = splitKey(skey.trim(), 'PRIVATE+KEY+');
  const signer = ed25519NoteSigner(name, ed25519FromSeed(key).privateKey);
  if (signer.keyId !== keyId) invalid('key ID does not match the key');
  return signer;
}

/** Signs `text` (which must end in a newline) with every signer, in order, giving the signed note. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  checkNoteText(text, 'note text');
  if (!text.endsWith('\n')) invalid('note text must end in a newline');
  if (signers.length === 0 || signers.length > MAX_NOTE_SIGNATURES) invalid('wrong number of signers');
  const msg = Buffer.from(text, 'utf8');
  let out = `${text}\n`;
  for (const s of signers) {
    const id = Buffer.alloc(4);
    id.writeUInt32BE(s.keyId);
    out += `\u2014 ${s.name} ${Buffer.concat([id, s.sign(msg)]).toString('base64')}\n`;
  }
  return out;
}

const SIGNATURE_LINE = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/u;

/**
 * Opens a signed note with the given verifiers (signed-note §Signatures). Throws `ERR_NOTE_INVALID` when the note
 * is malformed, carries too many signatures, has a known key's signature that fails, or no known key signed it.
 */
export function openNote(note: string, verifiers: readonly NoteVerifier[]): OpenedNote {
  if (note.length > MAX_NOTE_LENGTH) invalid('note too large');
  checkNoteText(note, 'note');
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) invalid('no signature block');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) invalid('too many signatures');
  const msg = Buffer.from(text, 'utf8');
  const signatures: NoteSignature[] = [];
  let verifiedAny = false;
  for (const line of lines) {
    const m = SIGNATURE_LINE.exec(line);
    if (!m || !isValidKeyName(m[1]!)) invalid('malformed signature line');
    const bytes = b64Decode(m[2]!, 'ERR_NOTE_INVALID');
    if (bytes.length < 5) invalid('signature too short');
    const name = m[1]!;
    const keyId = bytes.readUInt32BE(0);
    const signature = bytes.subarray(4);
    const v = verifiers.find((k) => k.name === name && k.keyId === keyId);
    if (v && !v.verify(msg, signature)) invalid('signature from a known key does not verify');
    verifiedAny ||= v !== undefined;
    signatures.push(Object.freeze({ name, keyId, signature, verified: v !== undefined }));
  }
  if (!verifiedAny) invalid('no known key signed the note');
  return Object.freeze({ text, signatures: Object.freeze(signatures) });
}
