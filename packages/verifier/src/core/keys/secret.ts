/**
 * Secrets (the token root, the log secret): loaded from a file or an environment variable, at least 32 random
 * bytes, and never printable. A {@link Secret} hides its bytes from `console.log`, `util.inspect`, `JSON.stringify`
 * and string conversion, so a stray log line cannot leak it.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { WritError } from '../errors.js';

/** Minimum secret length in bytes (RFC 5869 §3.1 advises IKM with at least HashLen of entropy). */
export const MIN_SECRET_BYTES = 32;

const bytesOf = new WeakMap<Secret, Buffer>();

/** An opaque secret. Read its bytes only with {@link exposeSecret}, and only to derive keys. */
export class Secret {
  /** Where the secret came from (a file path or `env:NAME`), for diagnostics. Never the value. */
  readonly source: string;

  constructor(bytes: Uint8Array, source: string) {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('secret must be bytes');
    if (bytes.length < MIN_SECRET_BYTES) {
      throw new WritError('ERR_KEY_MATERIAL_INVALID', { detail: `${source}: secret shorter than 32 bytes` });
    }
    bytesOf.set(this, Buffer.from(bytes));
    this.source = source;
    Object.freeze(this);
  }

  toString(): string {
    return '[Secret]';
  }
  toJSON(): string {
    return '[Secret]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Secret(${this.source})`;
  }
}

/** The secret's bytes. Callers must not log, store or send them. */
export function exposeSecret(secret: Secret): Buffer {
  const b = bytesOf.get(secret);
  if (!b) throw new TypeError('not a Secret');
  return b;
}

/**
 * Parses a secret from its text form: base64url or standard base64 of at least 32 bytes, surrounding whitespace
 * ignored.
 */
export function parseSecret(text: string, source: string): Secret {
  const t = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) {
    throw new WritError('ERR_KEY_MATERIAL_INVALID', { detail: `${source}: secret is not base64` });
  }
  return new Secret(Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64'), source);
}

/** Options for {@link loadSecret}: the environment variable wins over the file when both are given and set. */
export interface LoadSecretOptions {
  /** Path of a file holding the secret (base64url text). */
  file?: string;
  /** Name of an environment variable holding the secret (base64url text). */
  env?: string;
  /** The environment to read (default `process.env`). */
  environment?: NodeJS.ProcessEnv;
}

/** Loads a secret from an environment variable or a file. Throws `ERR_KEY_MATERIAL_INVALID` when absent or short. */
export function loadSecret(options: LoadSecretOptions): Secret {
  const environment = options.environment ?? process.env;
  if (options.env) {
    const v = environment[options.env];
    if (v !== undefined && v !== '') return parseSecret(v, `env:${options.env}`);
  }
  if (options.file) {
    let text: string;
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (cause) {
      throw new WritError('ERR_KEY_MATERIAL_INVALID', { cause, detail: `${options.file}: cannot read secret file` });
    }
    return parseSecret(text, options.file);
  }
  throw new WritError('ERR_KEY_MATERIAL_INVALID', { detail: 'no secret file or environment variable given' });
}

/** True when a secret file can be read by group or others (it should be mode 0600). */
export function secretFileIsExposed(file: string): boolean {
  return (statSync(file).mode & 0o077) !== 0;
}

/** Creates a new random secret file (mode 0600, fails if it exists) and returns the secret. */
export function createSecretFile(file: string, bytes = MIN_SECRET_BYTES): Secret {
  const raw = randomBytes(bytes);
  writeFileSync(file, `${raw.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  return new Secret(raw, file);
}
