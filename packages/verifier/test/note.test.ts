import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import {
  type Checkpoint,
  ed25519NoteSigner,
  ed25519VerifierKey,
  formatCheckpoint,
  MAX_NOTE_SIGNATURES,
  openCheckpoint,
  openNote,
  parseCheckpoint,
  parseSignerKey,
  parseVerifierKey,
  signCheckpoint,
  signNote,
} from '../src/index.js';
import { readVector } from './helpers/vectors.js';

interface NoteVector {
  verifierKey: string;
  signerKey: string;
  text: string;
  signedNote: string;
  badVerifierKeys: string[];
}
const V = readVector<NoteVector>('signed-note/peterneumann.json');

test('signed-note vector: signing with the signer key gives the exact note; the verifier key opens it', () => {
  const signer = parseSignerKey(V.signerKey);
  assert.equal(signNote(V.text, [signer]), V.signedNote);
  const verifier = parseVerifierKey(V.verifierKey);
  assert.equal(verifier.name, 'PeterNeumann');
  assert.equal(verifier.keyId, 0xc74f20a3);
  const opened = openNote(V.signedNote, [verifier]);
  assert.equal(opened.text, V.text);
  assert.deepEqual(
    opened.signatures.map((s) => [s.name, s.verified]),
    [['PeterNeumann', true]],
  );
});

test('signed-note vector: the bad verifier keys are rejected', () => {
  for (const k of V.badVerifierKeys) assert.throws(() => parseVerifierKey(k), { code: 'ERR_NOTE_INVALID' }, k);
  // Wrong key ID for the name, and a non-hex or short ID.
  const [name, , key] = V.verifierKey.split('+');
  assert.throws(() => parseVerifierKey(`${name}+c74f20a4+${key}`), { code: 'ERR_NOTE_INVALID' });
  assert.throws(() => parseVerifierKey(`Other+c74f20a3+${key}`), { code: 'ERR_NOTE_INVALID' });
  assert.throws(() => parseVerifierKey(`${name}+C74F20A3+${key}`), { code: 'ERR_NOTE_INVALID' });
  assert.throws(() => parseVerifierKey(`${name}+c74f20a3`), { code: 'ERR_NOTE_INVALID' });
});

function keyPair(name: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    signer: ed25519NoteSigner(name, privateKey),
    verifier: parseVerifierKey(ed25519VerifierKey(name, publicKey)),
  };
}

test('unknown signatures (witness cosignatures) are ignored; a known one that fails rejects the note', () => {
  const log = keyPair('log.example/a');
  const witnesses = Array.from({ length: MAX_NOTE_SIGNATURES - 1 }, (_, i) => keyPair(`witness${i}.example`));
  const note = signNote('hello\n', [log.signer, ...witnesses.map((w) => w.signer)]);
  const opened = openNote(note, [log.verifier]);
  assert.equal(opened.signatures.length, MAX_NOTE_SIGNATURES);
  assert.equal(opened.signatures.filter((s) => s.verified).length, 1);
  // Same name, other key: a different key ID, so it is unknown rather than failing.
  const impostor = keyPair('log.example/a');
  assert.throws(() => openNote(signNote('hello\n', [impostor.signer]), [log.verifier]), { code: 'ERR_NOTE_INVALID' });
  // Known key, tampered text.
  assert.throws(() => openNote(note.replace('hello', 'hellp'), [log.verifier]), { code: 'ERR_NOTE_INVALID' });
  // Known key's signature corrupted.
  const line = note.split('\n')[2]!;
  const sig = Buffer.from(line.split(' ')[2]!, 'base64');
  sig[10]! ^= 1;
  const corrupted = note.replace(line, `— log.example/a ${sig.toString('base64')}`);
  assert.throws(() => openNote(corrupted, [log.verifier]), { code: 'ERR_NOTE_INVALID' });
});

test('note limits and malformed notes', () => {
  const log = keyPair('log.example/b');
  const extra = keyPair('w.example');
  const full = signNote('x\n', [log.signer, ...Array.from({ length: MAX_NOTE_SIGNATURES - 1 }, () => extra.signer)]);
  openNote(full, [log.verifier]);
  const tooMany = full + full.split('\n').at(-2) + '\n';
  assert.throws(() => openNote(tooMany, [log.verifier]), { code: 'ERR_NOTE_INVALID' });
  const good = signNote('a\n\nb\n', [log.signer]);
  assert.equal(openNote(good, [log.verifier]).text, 'a\n\nb\n');
  for (const bad of [
    good.slice(0, -1), // no final newline
    good.replace('\n\n—', '\n—'), // no blank line
    good.replace('a', 'a\t'), // control character
    good.replace('— ', '-- '), // not an em dash
    good.replace('log.example/b ', 'log.example/b  '),
    `${good}— w.example !!!!\n`, // bad base64
  ]) {
    assert.throws(() => openNote(bad, [log.verifier]), { code: 'ERR_NOTE_INVALID' }, JSON.stringify(bad));
  }
  assert.throws(() => signNote('no newline', [log.signer]), { code: 'ERR_NOTE_INVALID' });
  assert.throws(() => ed25519NoteSigner('bad name', generateKeyPairSync('ed25519').privateKey), {
    code: 'ERR_NOTE_INVALID',
  });
});

test('checkpoints: format, parse, sign, open; origin must match the key name', () => {
  const log = keyPair('writ.example/ledger');
  const cp: Checkpoint = { origin: 'writ.example/ledger', size: 20852163, root: Buffer.alloc(32, 7), extensions: [] };
  const text = formatCheckpoint(cp);
  assert.equal(text, `writ.example/ledger\n20852163\n${Buffer.alloc(32, 7).toString('base64')}\n`);
  assert.deepEqual(parseCheckpoint(text), cp);
  assert.deepEqual(parseCheckpoint(`${text}ext one\n`).extensions, ['ext one']);
  const note = signCheckpoint(cp, log.signer);
  assert.deepEqual(openCheckpoint(note, log.verifier).checkpoint, cp);
  const other = keyPair('other.example');
  assert.throws(() => openCheckpoint(signCheckpoint(cp, other.signer), log.verifier), { code: 'ERR_NOTE_INVALID' });
  assert.throws(() => openCheckpoint(signCheckpoint(cp, other.signer), other.verifier), {
    code: 'ERR_CHECKPOINT_INVALID',
  });
  assert.equal(openCheckpoint(signCheckpoint(cp, other.signer), other.verifier, cp.origin).checkpoint.size, cp.size);
  assert.throws(() => openCheckpoint(signCheckpoint({ ...cp, origin: 'x' }, log.signer), log.verifier), {
    code: 'ERR_CHECKPOINT_INVALID',
  });
  const root = Buffer.alloc(32, 7).toString('base64');
  for (const bad of [
    'o\n1\n',
    `o\n01\n${root}\n`,
    `o\n-1\n${root}\n`,
    `o\n1\n${root}`,
    `o\n1\n${root}\n\n`,
    `o\n1\nAAAA\n`,
    `o\n99999999999999999999\n${root}\n`,
    `\n1\n${root}\n`,
  ]) {
    assert.throws(() => parseCheckpoint(bad), { code: 'ERR_CHECKPOINT_INVALID' }, JSON.stringify(bad));
  }
});
