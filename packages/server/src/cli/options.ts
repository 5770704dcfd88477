/**
 * The options every command shares, and turning them into a configuration.
 * @module
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type ConfigOverrides, loadConfig, type WritConfig } from '../server/config.js';
import { type CliIo, UsageError } from './io.js';

/** Options understood by every command that opens Writ's data. */
export const COMMON_OPTIONS = {
  data: { type: 'string' },
  database: { type: 'string' },
  config: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  issuer: { type: 'string' },
  'log-level': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

type Options = NonNullable<ParseArgsConfig['options']>;

/** A parsed command line. */
export interface Parsed {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** Parses `argv` strictly (unknown options are usage errors). */
export function parse(argv: string[], options: Options, allowPositionals = true): Parsed {
  try {
    return parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** The configuration for the common options of a parsed command line. */
export function configFrom(values: Record<string, unknown>, io: CliIo): WritConfig {
  const port = values.port as string | undefined;
  if (port !== undefined && !/^\d{1,5}$/.test(port)) throw new UsageError('--port must be a number');
  const overrides: ConfigOverrides = {
    configFile: values.config as string | undefined,
    data: values.data as string | undefined,
    database: values.database as string | undefined,
    host: values.host as string | undefined,
    port: port === undefined ? undefined : Number(port),
    issuer: values.issuer as string | undefined,
    logLevel: values['log-level'] as string | undefined,
  };
  return loadConfig(overrides, io.env);
}
