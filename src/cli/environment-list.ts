/**
 * Comma-separated lists from the environment (`WEFT_API_KEYS`, `WEFT_ALLOWED_HOSTS`).
 *
 * Trap it avoids: a list that fails open. Unset means "not configured"; a variable that is set but
 * lists nothing (`''`, `' , ,'`) or has an empty entry (`'k1,,k2'`, `'k1,'`) is refused rather
 * than read as unset or quietly trimmed, so a templating slip in a deployment (an empty secret, a
 * stray comma) cannot start an open server. Messages name the entry by position, never by value:
 * the value may be a secret.
 */
import { UsageError } from './process-lifecycle.ts';

/**
 * The entries of `name`, trimmed; `undefined` when the variable is unset. Throws `UsageError` when
 * it is set but lists nothing or has an empty entry.
 *
 * @example
 * environmentList('WEFT_API_KEYS', { WEFT_API_KEYS: 'k-1, k-2' }); // ['k-1', 'k-2']
 * environmentList('WEFT_API_KEYS', { WEFT_API_KEYS: ' , ' }); // throws: set but lists nothing
 */
export function environmentList(
  name: string,
  env: Record<string, string | undefined> = process.env,
): string[] | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const entries = value.split(',').map((entry) => entry.trim());
  if (entries.every((entry) => entry === '')) {
    throw new UsageError(`${name} is set but lists nothing: give comma-separated values, or unset it`);
  }
  const empty = entries.findIndex((entry) => entry === '');
  if (empty !== -1) {
    throw new UsageError(`${name} entry ${empty + 1} of ${entries.length} is empty (a stray comma?)`);
  }
  return entries;
}
