/**
 * The client credentials grant (RFC 6749 §4.4): the client acts for itself (`sub` = `client_id`).
 * @module
 */
import { GRANT_TYPES } from '../client-registry.js';
import { type Grant, mintForClient } from './context.js';

export const clientCredentials: Grant = (ctx) => mintForClient(ctx, ctx.client.clientId, GRANT_TYPES.clientCredentials);
