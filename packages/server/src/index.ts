/**
 * `@writ/server`: the Writ service (store, ledger, HTTP server) and the `writ` CLI.
 * @module
 */
export { WritError } from '@writ/verifier';
