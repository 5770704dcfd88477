/**
 * `writ client add|list|remove|rotate-secret`.
 * @module
 */
import { readFileSync } from 'node:fs';
import { parseStrictJson } from '@writ/verifier';
import { GRANT_TYPES, type NewClient } from '../../server/client-registry.js';
import { publicClient } from '../../server/client-view.js';
import type { ClientAuthMethod } from '../../store/clients.js';
import { type CliIo, EXIT, out, outJson, table, UsageError } from '../io.js';
import { configFrom, parse } from '../options.js';
import { many, scopes, withServices } from '../services.js';

export const CLIENT_HELP = `Usage:
  writ client add --name NAME [--scope "a b"] [--audience URL]... [--grant TYPE]... [--refresh] [--exchange]
                  [--jwt-bearer] [--dpop] [--opaque] [--ttl SECONDS] [--jwks FILE] [--auth-method METHOD]
                  [--details-type TYPE]... [--id ID] [--json]
  writ client list [--json]
  writ client remove CLIENT_ID [--json]
  writ client rotate-secret CLIENT_ID [--json]

'add' prints the client id and its secret (shown once; only a slow hash is stored). Removing a client revokes
its tokens.`;

const ADD = {
  name: { type: 'string' },
  scope: { type: 'string' },
  audience: { type: 'string', multiple: true },
  grant: { type: 'string', multiple: true },
  refresh: { type: 'boolean' },
  exchange: { type: 'boolean' },
  'jwt-bearer': { type: 'boolean' },
  dpop: { type: 'boolean' },
  opaque: { type: 'boolean' },
  ttl: { type: 'string' },
  jwks: { type: 'string' },
  'auth-method': { type: 'string' },
  'details-type': { type: 'string', multiple: true },
  id: { type: 'string' },
} as const;

export async function clientCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    out(io, CLIENT_HELP);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  const { values, positionals } = parse(rest, sub === 'add' ? ADD : {});
  if (values.help) {
    out(io, CLIENT_HELP);
    return EXIT.ok;
  }
  const config = configFrom(values, io);
  const actor = { kind: 'admin' as const, id: 'cli' };
  switch (sub) {
    case 'add': {
      if (typeof values.name !== 'string') throw new UsageError('--name is required');
      const grants = many(values.grant);
      if (grants.length === 0) grants.push(GRANT_TYPES.clientCredentials);
      if (values.refresh) grants.push(GRANT_TYPES.refreshToken);
      if (values.exchange) grants.push(GRANT_TYPES.tokenExchange);
      if (values['jwt-bearer']) grants.push(GRANT_TYPES.jwtBearer);
      const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
      if (ttl !== undefined && !(Number.isSafeInteger(ttl) && ttl > 0)) throw new UsageError('--ttl: seconds');
      const input: NewClient = {
        name: values.name,
        scopes: scopes(values.scope) ?? [],
        audiences: many(values.audience),
        grantTypes: grants,
        dpopBound: values.dpop === true,
        accessTokenFormat: values.opaque ? 'opaque' : 'jwt',
        accessTokenTtl: ttl ?? null,
        authorizationDetailsTypes: many(values['details-type']),
        ...(values.id ? { clientId: values.id as string } : {}),
        ...(values['auth-method'] ? { authMethod: values['auth-method'] as ClientAuthMethod } : {}),
        ...(values.jwks
          ? {
              jwks: parseStrictJson(readFileSync(values.jwks as string, 'utf8'), {
                malformed: 'ERR_INVALID_REQUEST',
              }) as NewClient['jwks'],
            }
          : {}),
      };
      const { client, secret } = await withServices(config, io, (svc) => svc.clients.create(input, actor));
      if (values.json) {
        outJson(io, { client_id: client.clientId, ...(secret ? { client_secret: secret } : {}) });
      } else {
        out(io, `client_id:     ${client.clientId}`);
        if (secret) out(io, `client_secret: ${secret}   (shown once; store it now)`);
      }
      return EXIT.ok;
    }
    case 'list': {
      const clients = await withServices(config, io, (svc) => svc.clients.list());
      if (values.json) {
        outJson(io, { clients: clients.map(publicClient) });
        return EXIT.ok;
      }
      out(
        io,
        table([
          ['CLIENT_ID', 'NAME', 'AUTH', 'GRANTS', 'SCOPE', 'AUDIENCES'],
          ...clients.map((c) => [
            c.clientId,
            c.name,
            c.authMethod,
            c.grantTypes.map((g) => g.replace('urn:ietf:params:oauth:grant-type:', '')).join(','),
            c.scopes.join(' '),
            c.audiences.join(' '),
          ]),
        ]),
      );
      return EXIT.ok;
    }
    case 'remove':
    case 'rotate-secret': {
      const id = positionals[0];
      if (!id || positionals.length > 1) throw new UsageError('give exactly one CLIENT_ID');
      if (sub === 'remove') {
        const removed = await withServices(config, io, async (svc) => {
          if (!(await svc.clients.remove(id, actor))) return false;
          await svc.revoker.revoke({ kind: 'client', clientId: id }, { reason: 'client_deleted', actor });
          return true;
        });
        if (values.json) outJson(io, { client_id: id, removed });
        else out(io, removed ? `Removed ${id} and revoked its tokens` : `No client ${id}`);
        return removed ? EXIT.ok : EXIT.failed;
      }
      const secret = await withServices(config, io, (svc) => svc.clients.rotateSecret(id, actor));
      if (values.json)
        outJson(io, secret ? { client_id: id, client_secret: secret } : { client_id: id, error: 'not found' });
      else out(io, secret ? `client_secret: ${secret}   (shown once)` : `No client ${id}`);
      return secret ? EXIT.ok : EXIT.failed;
    }
    default:
      throw new UsageError(`unknown subcommand '${sub}'`);
  }
}
