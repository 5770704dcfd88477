/**
 * C2SP tlog-checkpoints (https://c2sp.org/tlog-checkpoint): a signed note whose text is the log's origin, its
 * tree size in decimal, the base64 root hash, and optional extension lines.
 * @module
 */
import { b64Decode } from '../encoding.js';
import { WritError } from '../errors.js';
import { HASH_SIZE } from '../merkle/hash.js';
import { type NoteSigner, type NoteVerifier, type OpenedNote, openNote, signNote } from './note.js';

/** The tree head a checkpoint commits to. */
export interface Checkpoint {
  /** The log's identity, e.g. `writ.example/ledger`; also the name of the log's key. */
  readonly origin: string;
  /** Number of entries. */
  readonly size: number;
  /** RFC 9162 root hash of the first `size` entries. */
  readonly root: Buffer;
  /** Opaque extension lines (not recommended by the spec; Writ writes none). */
  readonly extensions: readonly string[];
}

/** A checkpoint whose signature was checked, with the note it came from. */
export interface OpenedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly note: OpenedNote;
}

function invalid(detail: string): never {
  throw new WritError('ERR_CHECKPOINT_INVALID', { detail });
}

/** The note text of a checkpoint. */
export function formatCheckpoint(cp: Checkpoint): string {
  if (cp.origin.length === 0 || cp.origin.includes('\n')) invalid('invalid origin');
  if (!Number.isSafeInteger(cp.size) || cp.size < 0) invalid('invalid size');
  if (cp.root.length !== HASH_SIZE) invalid('invalid root');
  if (cp.extensions.some((e) => e.length === 0 || e.includes('\n'))) invalid('invalid extension line');
  return [cp.origin, String(cp.size), cp.root.toString('base64'), ...cp.extensions].join('\n') + '\n';
}

/** Parses checkpoint note text (already verified as a note). Throws `ERR_CHECKPOINT_INVALID`. */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) invalid('text must end in a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3 || lines.some((l) => l.length === 0)) invalid('needs three non-empty lines');
  const [origin, size, root, ...extensions] = lines as [string, string, string, ...string[]];
  if (!/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size))) invalid('invalid size');
  const rootBytes = b64Decode(root, 'ERR_CHECKPOINT_INVALID');
  if (rootBytes.length !== HASH_SIZE) invalid('invalid root');
  return Object.freeze({ origin, size: Number(size), root: rootBytes, extensions: Object.freeze(extensions) });
}

/** Signs a checkpoint, giving the signed note. */
export function signCheckpoint(cp: Checkpoint, signer: NoteSigner): string {
  return signNote(formatCheckpoint(cp), [signer]);
}

/**
 * Opens a signed checkpoint: the log's key must have signed it (other signatures, e.g. witness cosignatures, are
 * ignored) and its origin must be `origin` (default: the key's name, as the spec recommends). Throws
 * `ERR_NOTE_INVALID` for signature problems and `ERR_CHECKPOINT_INVALID` for content problems.
 */
export function openCheckpoint(note: string, verifier: NoteVerifier, origin = verifier.name): OpenedCheckpoint {
  const opened = openNote(note, [verifier]);
  const checkpoint = parseCheckpoint(opened.text);
  if (checkpoint.origin !== origin) invalid(`origin ${checkpoint.origin} is not ${origin}`);
  return Object.freeze({ checkpoint, note: opened });
}
