/**
 * Internal: option validation shared by every constructor. Options are checked before any work (allow-lists, no
 * unknown members), and a bad option is `ERR_CONFIG_INVALID` naming the option, never a later surprise.
 * @module
 */
import { WritError } from './errors.js';

/** Throws `ERR_CONFIG_INVALID` for `name` with `detail`. */
export function configError(name: string, detail: string): WritError {
  return new WritError('ERR_CONFIG_INVALID', { detail: `${name}: ${detail}` });
}

/** Rejects an options object that is not an object or carries members outside `allowed` (typos must not pass). */
export function checkOptionNames(name: string, options: unknown, allowed: readonly string[]): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw configError(name, 'options must be an object');
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw configError(name, `unknown option "${key}"`);
  }
}

/** An integer option in [min, max], or `fallback` when undefined (required when `fallback` is undefined). */
export function intOption(
  name: string,
  value: unknown,
  fallback: number | undefined,
  min: number,
  max: number,
): number {
  if (value === undefined) {
    if (fallback === undefined) throw configError(name, 'is required');
    return fallback;
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw configError(name, `must be an integer in [${min}, ${max}]`);
  }
  return value;
}

/** A non-empty string option. */
export function stringOption(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw configError(name, 'must be a non-empty string');
  return value;
}

/** One string or a non-empty list of strings, as a frozen array (`allowEmpty` admits `[]`). */
export function stringListOption(name: string, value: unknown, allowEmpty = false): readonly string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || (!allowEmpty && list.length === 0)) {
    throw configError(name, 'must be a string or a non-empty array of strings');
  }
  for (const item of list) stringOption(name, item);
  return Object.freeze([...list] as string[]);
}

/** A clock option: a function returning milliseconds since the epoch (default `Date.now`). */
export function clockOption(name: string, value: unknown): () => number {
  if (value === undefined) return Date.now;
  if (typeof value !== 'function') throw configError(name, 'must be a function returning milliseconds');
  return value as () => number;
}
