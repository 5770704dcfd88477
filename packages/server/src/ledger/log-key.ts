/**
 * The log's checkpoint key: Ed25519, derived from the log secret, which is separate from the token root so that a
 * stolen token root cannot rewrite history (DESIGN.md invariant 3). Its note key name is the log's origin.
 * @module
 */
import {
  deriveBytes,
  ed25519FromSeed,
  ed25519NoteSigner,
  ed25519VerifierKey,
  type NoteSigner,
  type Secret,
} from '@writ/verifier';

/** The HKDF label of the log signing key. */
export const LOG_KEY_LABEL = { purpose: 'log-signing', alg: 'Ed25519' } as const;

/** The log's note signer and its verifier key text (`<origin>+<key ID>+<public key>`). */
export function logKey(logSecret: Secret, origin: string): { signer: NoteSigner; verifierKey: string } {
  const { privateKey, publicKey } = ed25519FromSeed(deriveBytes(logSecret, LOG_KEY_LABEL));
  return { signer: ed25519NoteSigner(origin, privateKey), verifierKey: ed25519VerifierKey(origin, publicKey) };
}
