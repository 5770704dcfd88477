/**
 * Pseudonymous subjects with crypto-shredding (DESIGN.md invariant 2). Each subject gets a random 32-byte key,
 * stored apart from the log under `HMAC(pseudonymisation key, subject)`; its pseudonym is
 * `base64url(HMAC(subject key, subject))`. The same subject always gets the same pseudonym, so its entries link;
 * deleting its key (an erasure request) leaves nothing that recomputes the pseudonym from the subject, so its
 * entries become unlinkable while every entry, and so the tree, stays as it was. A later entry for the same subject
 * gets a fresh key and an unrelated pseudonym.
 * @module
 */
import { createHmac, type KeyObject, randomBytes } from 'node:crypto';
import { WritError } from '@writ/verifier';
import type { SubjectKeyStore } from '../store/subject-keys.js';

export class Pseudonyms {
  readonly #store: SubjectKeyStore;
  readonly #key: KeyObject | Uint8Array;

  /** `key` is the pseudonymisation key (from the key schedule): a secret KeyObject or at least 32 bytes. */
  constructor(store: SubjectKeyStore, key: KeyObject | Uint8Array) {
    const size = key instanceof Uint8Array ? key.length : key.type === 'secret' ? key.symmetricKeySize : 0;
    if (!size || size < 32) {
      throw new WritError('ERR_KEY_MATERIAL_INVALID', { detail: 'pseudonymisation key must be a 32-byte secret' });
    }
    this.#store = store;
    this.#key = key;
  }

  #lookup(subject: string): Buffer {
    if (typeof subject !== 'string' || subject.length === 0) {
      throw new WritError('ERR_INVALID_ARGUMENT', { detail: 'subject must be a non-empty string' });
    }
    return createHmac('sha256', this.#key).update(subject, 'utf8').digest();
  }

  /** The subject's pseudonym (creating its key on first use). */
  async pseudonymise(subject: string): Promise<string> {
    const key = await this.#store.getOrCreate(this.#lookup(subject), randomBytes(32));
    return createHmac('sha256', key).update(subject, 'utf8').digest('base64url');
  }

  /** Deletes the subject's key; true when it had one. */
  erase(subject: string): Promise<boolean> {
    return this.#store.delete(this.#lookup(subject));
  }
}
