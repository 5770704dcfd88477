/**
 * `@writ/verifier`: Writ's core (key schedule, tokens, strict verification, DPoP, Merkle proofs, signed checkpoints)
 * and gateway (middleware that verifies offline inside a service). Pure TypeScript on `node:crypto`.
 * @module
 */

export { b64Decode, b64uDecode, b64uEncode, utf8Decode } from './core/encoding.js';
export * from './core/errors.js';
export { isJsonObject, parseStrictJson, type StrictJsonOptions } from './core/json.js';
