/**
 * Service configuration: one defaults object, one JSON schema that rejects unknown keys, then deep-freeze.
 * Sources, lowest precedence first: defaults, the config file (`--config FILE` or `<data>/writ.json` when present),
 * environment variables (`WRIT_*`), command-line flags. `docs/configuration.md` documents every key.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parseStrictJson, WritError } from '@writ/verifier';
import { Ajv } from 'ajv';

/** A forward-auth route rule: host + path prefix + methods map to an audience and required scopes. */
export interface RouteRule {
  /** Host to match (exact, case-insensitive); omit to match any host. */
  host?: string;
  /** Path prefix to match (default `/`). */
  pathPrefix?: string;
  /** Methods to match (default: any). */
  methods?: string[];
  /** Audience the token must carry (required unless `public`). */
  audience?: string;
  /** Scopes the token must all carry. */
  scopes?: string[];
  /** Let the request through without a token (public paths). */
  public?: boolean;
}

/** A trusted identity provider for the RFC 7523 jwt-bearer grant. */
export interface TrustedIssuer {
  /** Exact `iss` of its assertions. */
  issuer: string;
  /** Where its keys are: a JWKS URL (fetched, cached) or a local JWKS file. */
  jwksUri?: string;
  jwksFile?: string;
  /** Clients allowed to present its assertions (default: any client allowed the grant). */
  clients?: string[];
  /** Algorithms accepted (default EdDSA, ES256, RS256). */
  algorithms?: string[];
}

/** The validated, frozen service configuration. */
export interface WritConfig {
  /** Folder holding secrets and the SQLite database. */
  data: string;
  /** PostgreSQL URL; when set, PostgreSQL replaces SQLite. */
  database: string | null;
  host: string;
  port: number;
  /** Public base URL of this issuer (`iss`); default `http://<host>:<port>`. */
  issuer: string;
  /** Log level for the structured JSON log. */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  tokens: {
    /** Default access-token lifetime, seconds. */
    accessTokenTtl: number;
    /** Hard maximum lifetime of any access token, seconds. */
    maxLifetime: number;
    /** Refresh-token lifetime, seconds. */
    refreshTokenTtl: number;
    /** Signing algorithm. */
    alg: 'EdDSA' | 'ES256';
    /** Signing-key epoch length, seconds. */
    epochSeconds: number;
  };
  dpop: {
    /** Require server nonces in DPoP proofs at the token endpoint and at `/auth` (RFC 9449 §8, §9). */
    requireNonce: boolean;
    /** Accepted age of a proof's `iat`, seconds. */
    iatWindow: number;
  };
  ledger: {
    /** Sign a checkpoint at least this often while the log grows, milliseconds. */
    checkpointIntervalMs: number;
    /** …or after this many new entries. */
    checkpointEvery: number;
    /** Maximum queued appends before pushback (503). */
    queueLimit: number;
  };
  limits: {
    /** Maximum request body, bytes. */
    bodyBytes: number;
    /** Requests per second per client at the token endpoint (token bucket; burst = 2 s worth). */
    perClientRps: number;
    /** Requests per second per IP address across OAuth endpoints. */
    perIpRps: number;
  };
  /** Trusted identity providers for the jwt-bearer grant. */
  trustedIssuers: TrustedIssuer[];
  /** Forward-auth route rules (first match wins). */
  routes: RouteRule[];
  /** Upstream headers that `/auth` sets on allow: header name → claim (`sub`, `client_id`, `scope`, `jti`, `aud`). */
  upstreamHeaders: Record<string, string>;
  usage: {
    /** Record `/auth` decisions as `token.used` ledger records (folded per second). */
    forwardAuth: boolean;
  };
}

/** Defaults, documented in docs/configuration.md. */
export const DEFAULTS = Object.freeze({
  data: './writ-data',
  database: null,
  host: '127.0.0.1',
  port: 8080,
  logLevel: 'info',
  tokens: { accessTokenTtl: 300, maxLifetime: 3600, refreshTokenTtl: 86400, alg: 'EdDSA', epochSeconds: 86400 },
  dpop: { requireNonce: false, iatWindow: 60 },
  ledger: { checkpointIntervalMs: 5000, checkpointEvery: 10000, queueLimit: 100000 },
  limits: { bodyBytes: 64 * 1024, perClientRps: 5000, perIpRps: 20000 },
  trustedIssuers: [],
  routes: [],
  upstreamHeaders: { 'X-Writ-Subject': 'sub', 'X-Writ-Client': 'client_id', 'X-Writ-Scope': 'scope' },
  usage: { forwardAuth: true },
});

const positiveInt = { type: 'integer', minimum: 1 } as const;

/** The JSON schema of the configuration file (and of the merged configuration). */
export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    data: { type: 'string', minLength: 1 },
    database: { type: ['string', 'null'], pattern: '^postgres(ql)?://' },
    host: { type: 'string', minLength: 1 },
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    issuer: { type: 'string', pattern: '^https?://[^\\s#?]+$' },
    logLevel: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    tokens: {
      type: 'object',
      additionalProperties: false,
      properties: {
        accessTokenTtl: positiveInt,
        maxLifetime: positiveInt,
        refreshTokenTtl: positiveInt,
        alg: { enum: ['EdDSA', 'ES256'] },
        epochSeconds: { type: 'integer', minimum: 60 },
      },
    },
    dpop: {
      type: 'object',
      additionalProperties: false,
      properties: { requireNonce: { type: 'boolean' }, iatWindow: positiveInt },
    },
    ledger: {
      type: 'object',
      additionalProperties: false,
      properties: { checkpointIntervalMs: positiveInt, checkpointEvery: positiveInt, queueLimit: positiveInt },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      properties: { bodyBytes: { type: 'integer', minimum: 1024 }, perClientRps: positiveInt, perIpRps: positiveInt },
    },
    trustedIssuers: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['issuer'],
        properties: {
          issuer: { type: 'string', minLength: 1 },
          jwksUri: { type: 'string', pattern: '^https?://' },
          jwksFile: { type: 'string', minLength: 1 },
          clients: { type: 'array', items: { type: 'string' } },
          algorithms: { type: 'array', items: { enum: ['EdDSA', 'ES256', 'ES384', 'RS256', 'PS256'] } },
        },
        oneOf: [{ required: ['jwksUri'] }, { required: ['jwksFile'] }],
      },
    },
    routes: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        // A rule names an audience, unless it makes its paths public.
        anyOf: [{ required: ['audience'] }, { required: ['public'], properties: { public: { const: true } } }],
        properties: {
          host: { type: 'string', minLength: 1 },
          pathPrefix: { type: 'string', pattern: '^/' },
          methods: { type: 'array', items: { type: 'string', pattern: '^[A-Z]+$' } },
          audience: { type: 'string', minLength: 1 },
          scopes: { type: 'array', items: { type: 'string', pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$' } },
          public: { type: 'boolean' },
        },
      },
    },
    upstreamHeaders: {
      type: 'object',
      propertyNames: { pattern: '^[A-Za-z0-9-]+$' },
      additionalProperties: { enum: ['sub', 'client_id', 'scope', 'jti', 'aud', 'iss', 'exp'] },
    },
    usage: {
      type: 'object',
      additionalProperties: false,
      properties: { forwardAuth: { type: 'boolean' } },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
const validate = ajv.compile(CONFIG_SCHEMA);

/** Settings given on the command line or by the caller (highest precedence). */
export interface ConfigOverrides {
  /** A config file to read (default `<data>/writ.json` when it exists). */
  configFile?: string;
  data?: string;
  database?: string;
  host?: string;
  port?: number;
  issuer?: string;
  logLevel?: string;
  /** Anything else, merged like a config file. */
  extra?: Record<string, unknown>;
}

type Json = Record<string, unknown>;

function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? merge(out[k] as Json, v) : v;
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

function fromEnv(env: NodeJS.ProcessEnv): Json {
  const port = env.WRIT_PORT;
  if (port !== undefined && !/^\d+$/.test(port)) {
    throw new WritError('ERR_CONFIG_INVALID', { detail: 'WRIT_PORT must be a port number' });
  }
  return {
    data: env.WRIT_DATA || undefined,
    database: env.WRIT_DATABASE_URL || undefined,
    host: env.WRIT_HOST || undefined,
    port: port === undefined ? undefined : Number(port),
    issuer: env.WRIT_ISSUER || undefined,
    logLevel: env.WRIT_LOG_LEVEL || undefined,
  };
}

function readConfigFile(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new WritError('ERR_CONFIG_INVALID', { cause, detail: `${file}: cannot read config file` });
  }
  let parsed: unknown;
  try {
    parsed = parseStrictJson(text, { malformed: 'ERR_CONFIG_INVALID', maxDepth: 16 });
  } catch (cause) {
    throw new WritError('ERR_CONFIG_INVALID', { cause, detail: `${file}: not valid JSON (or duplicate keys)` });
  }
  if (!isPlainObject(parsed)) throw new WritError('ERR_CONFIG_INVALID', { detail: `${file}: must hold an object` });
  return parsed;
}

/**
 * Builds the configuration from defaults, file, environment and overrides; validates it against
 * {@link CONFIG_SCHEMA} (unknown keys rejected) and cross-field rules; returns it deep-frozen.
 * Throws `ERR_CONFIG_INVALID` with a one-line `detail` naming the bad setting.
 */
export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): WritConfig {
  const envPart = fromEnv(env);
  const data = overrides.data ?? (envPart.data as string | undefined) ?? DEFAULTS.data;
  const file = overrides.configFile ?? env.WRIT_CONFIG ?? join(data, 'writ.json');
  const filePart = overrides.configFile || env.WRIT_CONFIG || existsSync(file) ? readConfigFile(file) : {};
  const flags: Json = {
    data: overrides.data,
    database: overrides.database,
    host: overrides.host,
    port: overrides.port,
    issuer: overrides.issuer,
    logLevel: overrides.logLevel,
  };
  const merged = merge(
    merge(merge(merge(structuredClone(DEFAULTS) as Json, filePart), envPart), overrides.extra ?? {}),
    flags,
  );
  if (!validate(merged)) {
    const e = validate.errors?.[0];
    const where = e?.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'config';
    const extra = e?.params && 'additionalProperty' in e.params ? ` '${String(e.params.additionalProperty)}'` : '';
    throw new WritError('ERR_CONFIG_INVALID', { detail: `${where}: ${e?.message ?? 'invalid'}${extra}` });
  }
  const cfg = merged as unknown as WritConfig;
  cfg.data = isAbsolute(cfg.data) ? cfg.data : resolve(cfg.data);
  cfg.issuer ??= `http://${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${cfg.port}`;
  cfg.issuer = cfg.issuer.replace(/\/+$/, '');
  if (cfg.tokens.accessTokenTtl > cfg.tokens.maxLifetime) {
    throw new WritError('ERR_CONFIG_INVALID', { detail: 'tokens.accessTokenTtl exceeds tokens.maxLifetime' });
  }
  if (cfg.tokens.maxLifetime > cfg.tokens.epochSeconds) {
    throw new WritError('ERR_CONFIG_INVALID', {
      detail: 'tokens.maxLifetime exceeds tokens.epochSeconds (a key must outlive the tokens it signs by one epoch)',
    });
  }
  return deepFreeze(cfg);
}

/** True for loopback host names and addresses. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

/** Warnings about unsafe settings, printed at start-up. */
export function configWarnings(cfg: WritConfig): string[] {
  const w: string[] = [];
  if (!isLoopback(cfg.host)) {
    if (cfg.issuer.startsWith('http://')) {
      w.push(
        `listening on ${cfg.host} with a plain-HTTP issuer (${cfg.issuer}): put TLS in front and set issuer to https://`,
      );
    }
  }
  if (cfg.tokens.maxLifetime > 86400) w.push('tokens.maxLifetime is over a day: short-lived tokens are safer');
  return w;
}
