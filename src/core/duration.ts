/**
 * Durations as users write them: milliseconds, or '250ms' '30s' '5m' '2h' '1d'.
 *
 * Parsing is strict on purpose: a typo such as '5 min' must fail at the call, not become
 * a timer that fires at the wrong time days later.
 */
import { InvalidDurationError } from './errors.ts';

/**
 * A length of time: milliseconds as a number, or a number with a unit `ms` `s` `m` `h` `d`
 * (decimals allowed). At most 100 years; anything else fails with `invalid_duration`.
 *
 * @example
 * const timeout: Duration = '1.5s'; // same as 1500
 */
export type Duration = number | `${number}${DurationUnit}`;
type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';

const UNIT_MS: Record<DurationUnit, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** The longest duration accepted: 100 years, far beyond any timer a workflow needs. */
export const MAX_DURATION_MS = 100 * 365 * UNIT_MS.d;

/**
 * Converts a duration to whole milliseconds, or throws `InvalidDurationError` (code `invalid_duration`).
 *
 * @example
 * parseDuration('1.5s') // 1500
 */
export function parseDuration(value: unknown): number {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string') {
    const match = PATTERN.exec(value.trim());
    if (!match) throw new InvalidDurationError(value);
    ms = Number(match[1]) * UNIT_MS[match[2] as DurationUnit];
  } else {
    throw new InvalidDurationError(value);
  }
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_DURATION_MS) throw new InvalidDurationError(value);
  return Math.round(ms);
}
