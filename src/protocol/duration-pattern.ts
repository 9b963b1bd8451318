/**
 * The duration strings the wire accepts, as one regular expression: a decimal number and a unit
 * (`250ms`, `1.5s`, `5m`, `2h`, `1d`) whose value is at most `MAX_DURATION_MS` (100 years). The
 * catalog's zod schema checks it and the OpenAPI and OpenRPC documents publish it as `pattern`.
 *
 * Trap it avoids: a document looser than the server. `parseDuration` refuses `36501d` after
 * parsing, a check JSON Schema cannot state; spelling the bound into the pattern (per unit, the
 * decimals up to that unit's maximum) makes every string that matches one the engine accepts, so a
 * client generated from the document never sends a duration the server refuses. It is stricter than
 * `parseDuration` only in what no client needs: surrounding spaces, and fractions that round down
 * to the maximum.
 */
import { MAX_DURATION_MS } from '../core/duration.ts';

/** Milliseconds per unit, as `parseDuration` reads them (duration-pattern.test.ts holds the two together). */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * A regular expression source matching a non-negative decimal (leading zeros and a fraction
 * allowed) whose value is at most the integer `max`: shorter integer parts, then, digit by digit,
 * integer parts of the same length below `max`, then `max` itself with an all-zero fraction.
 */
function decimalAtMost(max: number): string {
  const digits = String(max);
  const fraction = '(?:\\.[0-9]+)?';
  const branches: string[] = [];
  if (digits.length > 1) branches.push(`[0-9]{1,${digits.length - 1}}${fraction}`);
  for (let i = 0; i < digits.length; i++) {
    const digit = Number(digits[i]);
    const lowest = i === 0 ? 1 : 0;
    if (digit <= lowest) continue;
    const rest = digits.length - i - 1;
    const below = digit - 1 === lowest ? String(lowest) : `[${lowest}-${digit - 1}]`;
    branches.push(`${digits.slice(0, i)}${below}${rest > 0 ? `[0-9]{${rest}}` : ''}${fraction}`);
  }
  branches.push(`${digits}(?:\\.0+)?`);
  return `0*(?:${branches.join('|')})`;
}

/**
 * A duration string the server accepts: a decimal number of `ms`, `s`, `m`, `h` or `d`, at most
 * 100 years (`MAX_DURATION_MS`).
 *
 * @example
 * DURATION_PATTERN.test('1.5s'); // true
 * DURATION_PATTERN.test('36501d'); // false: over 100 years
 */
export const DURATION_PATTERN = new RegExp(
  `^(?:${Object.entries(UNIT_MS)
    .map(([unit, ms]) => `(?:${decimalAtMost(MAX_DURATION_MS / ms)})${unit}`)
    .join('|')})$`,
);
