/**
 * `writ token issue|inspect|verify|revoke`.
 * @module
 */
import { b64uDecode, isWritError, parseOpaqueToken, parseStrictJson, utf8Decode, WritError } from '@writ/verifier';
import { GRANT_TYPES } from '../../server/client-registry.js';
import { narrowAudience, narrowScope } from '../../server/grants/context.js';
import { type CliIo, describeError, EXIT, out, outJson, UsageError } from '../io.js';
import { configFrom, parse } from '../options.js';
import { many, withServices } from '../services.js';

export const TOKEN_HELP = `Usage:
  writ token issue --client CLIENT_ID [--scope "a b"] [--audience URL]... [--ttl SECONDS] [--json]
  writ token inspect TOKEN [--json]          decode offline (no key needed); checks an opaque token's checksum
  writ token verify TOKEN [--audience URL] [--json]   verify signature, claims and revocation (exit 1 if invalid)
  writ token revoke TOKEN | --jti JTI [--json]         revoke, with its cascade, durably and in the ledger

A TOKEN argument of '-' reads the token from standard input (keeps it out of shell history).`;

async function tokenArg(positionals: string[]): Promise<string> {
  const t = positionals[0];
  if (t === undefined || positionals.length > 1) throw new UsageError('give exactly one TOKEN (or - for stdin)');
  if (t !== '-') return t;
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.trim();
}

/** Decodes a token without verifying it. */
export function inspectToken(token: string): Record<string, unknown> {
  if (token.startsWith('writ_')) {
    const kind = parseOpaqueToken(token);
    return { format: 'opaque', kind: kind === 'at' ? 'access_token' : 'refresh_token', checksum: 'valid' };
  }
  const parts = token.split('.');
  if (parts.length !== 3) throw new WritError('ERR_TOKEN_MALFORMED', { detail: 'neither a JWT nor a Writ token' });
  const json = (p: string) => parseStrictJson(utf8Decode(b64uDecode(p)));
  return { format: 'jwt', header: json(parts[0]!), claims: json(parts[1]!), verified: false };
}

export async function tokenCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    out(io, TOKEN_HELP);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  const { values, positionals } = parse(rest, {
    client: { type: 'string' },
    scope: { type: 'string' },
    audience: { type: 'string', multiple: true },
    ttl: { type: 'string' },
    jti: { type: 'string' },
  });
  if (values.help) {
    out(io, TOKEN_HELP);
    return EXIT.ok;
  }
  switch (sub) {
    case 'inspect': {
      const token = await tokenArg(positionals);
      try {
        const r = inspectToken(token);
        if (values.json) outJson(io, r);
        else
          for (const [k, v] of Object.entries(r))
            out(io, `${k}: ${typeof v === 'string' ? v : JSON.stringify(v, null, 2)}`);
        return EXIT.ok;
      } catch (e) {
        if (values.json) outJson(io, { valid: false, code: isWritError(e) ? e.code : 'ERR_INTERNAL' });
        else out(io, `not a valid token: ${describeError(e)}`);
        return EXIT.failed;
      }
    }
    case 'issue': {
      if (typeof values.client !== 'string') throw new UsageError('--client is required');
      const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
      if (ttl !== undefined && !(Number.isSafeInteger(ttl) && ttl > 0)) throw new UsageError('--ttl: seconds');
      const config = configFrom(values, io);
      const r = await withServices(config, io, async (svc) => {
        const client = await svc.clients.get(values.client as string);
        if (!client) throw new WritError('ERR_INVALID_REQUEST', { detail: `no client ${values.client}` });
        const scope = narrowScope(values.scope as string | undefined, client.scopes);
        const aud = narrowAudience({ resource: many(values.audience), audience: [] }, client.audiences);
        const minted = await svc.issuer.mintAccessToken({
          client,
          grantType: GRANT_TYPES.clientCredentials,
          sub: client.clientId,
          aud,
          scope,
          ...(ttl ? { lifetime: ttl } : {}),
        });
        return { minted, scope };
      });
      const body = {
        access_token: r.minted.token,
        token_type: 'Bearer',
        expires_in: r.minted.expiresIn,
        ...(r.scope.length ? { scope: r.scope.join(' ') } : {}),
        ledger_index: r.minted.index,
      };
      if (values.json) outJson(io, body);
      else out(io, r.minted.token);
      return EXIT.ok;
    }
    case 'verify': {
      const token = await tokenArg(positionals);
      const config = configFrom(values, io);
      const result = await withServices(config, io, async (svc) => {
        const { Verifier } = await import('@writ/verifier');
        const audiences = many(values.audience);
        const verifier = new Verifier({
          issuer: config.issuer,
          audience: audiences.length ? audiences : '*',
          keys: svc.keys.source,
          maxTokenLifetime: config.tokens.maxLifetime,
          isRevoked: (c, k) => svc.revocations.has(c, k.kid),
          cache: false,
        });
        try {
          const v = await verifier.verify(token, { skipBinding: true });
          return { valid: true, claims: v.claims, kid: v.key.kid };
        } catch (e) {
          if (isWritError(e)) return { valid: false, code: e.code, error: e.message };
          throw e;
        }
      });
      if (values.json) outJson(io, result);
      else
        out(
          io,
          result.valid
            ? `valid (kid ${result.kid}): ${JSON.stringify(result.claims)}`
            : `invalid: ${result.error} (${result.code})`,
        );
      return result.valid ? EXIT.ok : EXIT.failed;
    }
    case 'revoke': {
      const config = configFrom(values, io);
      let jti = values.jti as string | undefined;
      const token = jti === undefined ? await tokenArg(positionals) : undefined;
      const r = await withServices(config, io, async (svc) => {
        if (token !== undefined) {
          if (token.startsWith('writ_')) {
            parseOpaqueToken(token);
            jti = (await svc.stores.tokens.getByHash(svc.issuer.lookupHash(token)))?.jti;
          } else {
            const c = inspectToken(token).claims as { jti?: unknown; iss?: unknown };
            if (c.iss !== config.issuer) throw new WritError('ERR_INVALID_REQUEST', { detail: 'not issued here' });
            jti = typeof c.jti === 'string' ? c.jti : undefined;
          }
          if (jti === undefined) throw new WritError('ERR_INVALID_REQUEST', { detail: 'unknown token' });
        }
        return svc.revoker.revoke(
          { kind: 'jti', jti: jti! },
          { reason: 'admin_request', actor: { kind: 'admin', id: 'cli' } },
        );
      });
      if (values.json) outJson(io, { jti, revoked: r.jtis, ledger_indexes: r.indexes });
      else out(io, `Revoked ${r.jtis.length} token(s): ${r.jtis.join(', ')}`);
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown subcommand '${sub}'`);
  }
}
