// DPoP client side for the gateway tests: a key pair, its thumbprint, and proofs for requests (RFC 9449 §4.2).
import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { accessTokenHash, jwkThumbprint, publicJwk } from '../../../src/index.js';
import { craft, rawSign } from '../../helpers/core.js';

/** A DPoP key of a client. */
export interface DpopKey {
  readonly privateKey: KeyObject;
  readonly jwk: Record<string, unknown>;
  /** The `cnf.jkt` a token bound to this key carries. */
  readonly jkt: string;
}

export function dpopKey(): DpopKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicJwk(publicKey);
  return { privateKey, jwk, jkt: jwkThumbprint(jwk) };
}

/** A proof for `method` `url` presenting `token` (and `nonce`, when the server asked for one). */
export function dpopProof(key: DpopKey, method: string, url: string, token: string, nonce?: string): string {
  const claims: Record<string, unknown> = {
    jti: randomUUID(),
    htm: method,
    htu: url,
    iat: Math.floor(Date.now() / 1000),
    ath: accessTokenHash(token),
  };
  if (nonce !== undefined) claims.nonce = nonce;
  return craft({ typ: 'dpop+jwt', alg: 'EdDSA', jwk: key.jwk }, claims, (i) => rawSign('EdDSA', key.privateKey, i));
}
