/**
 * First-run set-up, shared by `writ init` and `writ serve`: the data folder with its secrets, the database and the
 * ledger, and the first admin client, whose credentials go to a file (mode 0600) — never to the terminal or a log.
 * @module
 */
import type { WritConfig } from '../server/config.js';
import { adminCredentialsFile, initDataDir, writeAdminCredentials } from '../server/data-dir.js';
import { ADMIN_SCOPE } from '../server/routes/admin.js';
import { VERIFIER_SCOPE } from '../server/routes/verifier-feed.js';
import { Services } from '../server/services.js';

/** What set-up did. */
export interface SetupResult {
  created: string[];
  /** The admin credentials file, when this run created the admin client. */
  adminCredentials?: string;
}

/** Creates whatever is missing; safe to run again. */
export async function setup(
  config: WritConfig,
  env: NodeJS.ProcessEnv,
  options: { issuerGiven?: boolean } = {},
): Promise<SetupResult> {
  const { created } = initDataDir(config, env, options);
  const svc = await Services.open(config, { role: 'cli', env, log: undefined });
  try {
    if ((await svc.clients.list()).length > 0) return { created };
    const { client, secret } = await svc.clients.create(
      {
        name: 'admin',
        scopes: [ADMIN_SCOPE, VERIFIER_SCOPE],
        audiences: [config.issuer],
        grantTypes: ['client_credentials'],
      },
      { kind: 'system' },
    );
    const file = writeAdminCredentials(config.data, {
      client_id: client.clientId,
      client_secret: secret,
      issuer: config.issuer,
      token_endpoint: `${config.issuer}/oauth2/token`,
      scope: `${ADMIN_SCOPE} ${VERIFIER_SCOPE}`,
    });
    return { created, adminCredentials: file };
  } finally {
    await svc.close();
  }
}

export { adminCredentialsFile };
