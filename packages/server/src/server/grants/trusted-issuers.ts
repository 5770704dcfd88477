/**
 * Identity providers whose JWT assertions the jwt-bearer grant accepts (RFC 7523 §3), each with its keys from a
 * local JWKS file or a JWKS URL (fetched, cached, refetched on an unknown key with a cooldown, by jose).
 * @module
 */
import { readFileSync } from 'node:fs';
import { parseStrictJson, WritError } from '@writ/verifier';
import { createLocalJWKSet, createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import type { TrustedIssuer } from '../config.js';

interface Entry {
  config: TrustedIssuer;
  keys: JWTVerifyGetKey;
}

/** The configured trusted issuers, by `iss`. */
export class TrustedIssuers {
  readonly #byIssuer = new Map<string, Entry>();

  constructor(issuers: readonly TrustedIssuer[]) {
    for (const config of issuers) {
      let keys: JWTVerifyGetKey;
      if (config.jwksFile) {
        let jwks: unknown;
        try {
          jwks = parseStrictJson(readFileSync(config.jwksFile, 'utf8'), { malformed: 'ERR_CONFIG_INVALID' });
          keys = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
        } catch (cause) {
          throw new WritError('ERR_CONFIG_INVALID', { cause, detail: `${config.jwksFile}: not a JWKS` });
        }
      } else {
        keys = createRemoteJWKSet(new URL(config.jwksUri!), { timeoutDuration: 5000, cooldownDuration: 30_000 });
      }
      this.#byIssuer.set(config.issuer, { config, keys });
    }
  }

  /** The trusted issuer named `iss`, if any. */
  get(iss: string): Entry | undefined {
    return this.#byIssuer.get(iss);
  }
}
