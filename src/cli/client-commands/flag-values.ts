/**
 * Reading the values of client command flags: JSON (`--input`, `--payload`), attributes
 * (`--attribute k=v`), dates (`--created-after`), integers (`--limit`, `--after`) and the single
 * positional arguments. Every refusal is a usage error that names the flag, so a stray quote in
 * `--input` says which flag it was in, not just "Unexpected token".
 */
import { parseDuration } from '../../core/duration.ts';
import { usageError } from './exit-codes.ts';

/** `text` parsed as JSON, or a usage error naming `flag`. */
export function jsonFlag(flag: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw usageError(`${flag} is not valid JSON (${reason}); quote strings: ${flag} '"text"'`);
  }
}

/** A decimal the REST list reads back as a number (attribute.<name>=5). */
const DECIMAL = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/;

/**
 * `name=value` pairs as an attributes filter, each value typed as the REST list types
 * `attribute.<name>=<value>`: `true`/`false` are booleans, a decimal is a number, a JSON string in
 * double quotes (`"5"`) is that string, anything else is the text as written.
 */
export function attributesFlag(pairs: readonly string[] | undefined): Record<string, string | number | boolean> {
  const attributes: Record<string, string | number | boolean> = {};
  for (const pair of pairs ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw usageError(`--attribute takes name=value, not '${pair}'`);
    const name = pair.slice(0, at);
    const text = pair.slice(at + 1);
    if (Object.hasOwn(attributes, name)) throw usageError(`--attribute ${name} is given twice`);
    attributes[name] = attributeValue(text);
  }
  return attributes;
}

function attributeValue(text: string): string | number | boolean {
  if (text === 'true' || text === 'false') return text === 'true';
  if (DECIMAL.test(text)) return Number(text);
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
    try {
      return JSON.parse(text) as string;
    } catch {
      return text;
    }
  }
  return text;
}

/**
 * A date flag as the ISO 8601 date-time the API takes: a date or date-time (`2026-12-01`,
 * `2026-12-01T08:00:00Z`), or a duration meaning that long ago (`30m`, `2h`, `7d`).
 */
export function dateFlag(flag: string, text: string | undefined, now = Date.now()): string | undefined {
  if (text === undefined) return undefined;
  let ago: number | undefined;
  try {
    ago = parseDuration(text);
  } catch {
    ago = undefined;
  }
  if (ago !== undefined) return new Date(now - ago).toISOString();
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw usageError(
      `${flag} takes a date (2026-12-01, 2026-12-01T08:00:00Z) or a duration ago (30m, 7d), not '${text}'`,
    );
  }
  return new Date(ms).toISOString();
}

/** An integer flag (at least `min`), or a usage error naming it. */
export function integerFlag(flag: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value) || value < min) {
    throw usageError(`${flag} takes an integer of at least ${min}, not '${text}'`);
  }
  return value;
}

/** Repeated values, each also split at commas (`--status failed,timed_out --status cancelled`). */
export function listFlag(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const items = values.flatMap((value) => value.split(',')).map((value) => value.trim());
  return items.filter((value) => value !== '');
}

/**
 * Exactly `names.length` positional arguments, or a usage error naming the first missing (or the
 * first extra) one.
 *
 * @example
 * const [id, name] = positionals(parsed.positionals, ['<id>', '<name>']);
 */
export function positionals(given: readonly string[], names: readonly string[]): string[] {
  if (given.length < names.length) throw usageError(`missing ${names[given.length]}`);
  if (given.length > names.length) throw usageError(`unexpected argument '${given[names.length]}'`);
  return [...given];
}
