/**
 * The client credentials grant (RFC 6749 §4.4): the client acts for itself (`sub` = `client_id`).
 * @module
 */
import { GRANT_TYPES } from '../client-registry.js';
import { type Grant, narrowAudience, narrowAuthorizationDetails, narrowScope, wantsRefresh } from './context.js';

export const clientCredentials: Grant = async ({ svc, client, params, lists, dpop }) => {
  const scope = narrowScope(params.scope, client.scopes);
  const aud = narrowAudience(lists, client.audiences);
  const authorizationDetails = narrowAuthorizationDetails(
    params.authorization_details,
    client.authorizationDetailsTypes,
  );
  const cnf = dpop ? { jkt: dpop.jkt } : undefined;
  const grantType = GRANT_TYPES.clientCredentials;
  const refresh = wantsRefresh(client)
    ? await svc.issuer.mintRefreshToken(client, {
        sub: client.clientId,
        aud,
        scope,
        cnf,
        authorizationDetails,
        grantType,
      })
    : undefined;
  const access = await svc.issuer.mintAccessToken({
    client,
    grantType,
    sub: client.clientId,
    aud,
    scope,
    cnf,
    authorizationDetails,
    familyId: refresh?.familyId,
    parentJti: refresh?.jti,
  });
  return { access, refresh, scope };
};
