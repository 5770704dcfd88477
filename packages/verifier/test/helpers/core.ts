// Shared fixtures for the core tests: a fixed root, a frozen clock, a signer and verifier factories.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AccessTokenRequest,
  AccessTokenSigner,
  KeySchedule,
  type KeyScheduleOptions,
  Secret,
  Verifier,
  type VerifierOptions,
} from '../../src/index.js';

/** 2026-01-01T00:00:00Z, plus an offset into the day so epochs do not start at the frozen instant. */
export const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);
export const ISSUER = 'https://issuer.example';
export const AUDIENCE = 'https://api.example';

export const ROOT = new Secret(Buffer.alloc(32, 7), 'test-root');
export const ROOT2 = new Secret(Buffer.alloc(32, 9), 'test-root-2');

/** A settable clock in ms. */
export function clock(start = T0): { now: () => number; set(ms: number): void; advance(seconds: number): void } {
  let t = start;
  return {
    now: () => t,
    set(ms) {
      t = ms;
    },
    advance(seconds) {
      t += seconds * 1000;
    },
  };
}

export function schedule(options: Partial<KeyScheduleOptions> = {}): KeySchedule {
  return new KeySchedule({
    roots: [{ generation: 1, secret: ROOT }],
    maxTokenLifetime: 3600,
    now: () => T0,
    ...options,
  });
}

export function signer(keys: KeySchedule, now: () => number = () => T0): AccessTokenSigner {
  return new AccessTokenSigner({ keys, issuer: ISSUER, now });
}

export function request(extra: Partial<AccessTokenRequest> = {}): AccessTokenRequest {
  return { sub: 'user-1', aud: AUDIENCE, clientId: 'client-1', scope: 'read write', lifetime: 600, ...extra };
}

export function verifier(keys: VerifierOptions['keys'], options: Partial<VerifierOptions> = {}): Verifier {
  return new Verifier({ issuer: ISSUER, audience: AUDIENCE, keys, now: () => T0, ...options });
}

/** Signs a token for `request()` (plus `extra`) with the schedule's current key. */
export function issue(keys: KeySchedule, extra: Partial<AccessTokenRequest> = {}, now?: () => number): string {
  const s = signer(keys, now);
  return s.sign(s.claims(request(extra))).token;
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === '@writ/verifier') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the @writ/verifier package root');
    dir = up;
  }
}

/** Reads a file of the repository (found from the package root, so compiled tests find it); fails loudly if absent. */
export function readRepoFile(path: string): string {
  const file = join(packageRoot(), '..', '..', path);
  if (!existsSync(file)) throw new Error(`${file} is missing: it must be present for this test`);
  return readFileSync(file, 'utf8');
}

/** Signs arbitrary header and payload JSON text with a key (for crafting hostile tokens). */
export { signSync as rawSign } from '../../src/core/_alg.js';
export { readVector } from './vectors.js';

/** Builds a compact JWS from header and payload (objects or raw JSON text), signed by `sign` (or unsigned). */
export function craft(
  header: object | string,
  payload: object | string,
  sign: (input: Buffer) => Buffer = () => Buffer.alloc(0),
): string {
  const enc = (v: object | string) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
  const input = `${enc(header)}.${enc(payload)}`;
  return `${input}.${sign(Buffer.from(input)).toString('base64url')}`;
}
