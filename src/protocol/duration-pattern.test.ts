import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { MAX_DURATION_MS, parseDuration } from '../core/duration.ts';
import { DURATION_PATTERN } from './duration-pattern.ts';

const UNITS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

describe('DURATION_PATTERN', () => {
  test('matches the durations users write', () => {
    for (const text of ['0ms', '250ms', '1.5s', '30s', '5m', '2h', '1d', '007s', '36500d', '36500.000d']) {
      expect({ text, matches: DURATION_PATTERN.test(text) }).toEqual({ text, matches: true });
    }
  });

  test('refuses what parseDuration refuses: other spellings, units and anything over 100 years', () => {
    const refused = ['', '5', '5 min', '1e3ms', '-1s', '.5s', '5.s', '1w', '36500.1d', '36501d', '876001h'];
    for (const text of [...refused, `${MAX_DURATION_MS + 1}ms`]) {
      expect({ text, matches: DURATION_PATTERN.test(text) }).toEqual({ text, matches: false });
    }
  });

  test("puts each unit's bound exactly at 100 years, as parseDuration does", () => {
    for (const [unit, ms] of Object.entries(UNITS)) {
      const max = MAX_DURATION_MS / ms;
      expect(parseDuration(`${max}${unit}`)).toBe(MAX_DURATION_MS);
      expect(DURATION_PATTERN.test(`${max}${unit}`)).toBe(true);
      expect(DURATION_PATTERN.test(`${max + 1}${unit}`)).toBe(false);
      expect(() => parseDuration(`${max + 1}${unit}`)).toThrow();
    }
  });

  test('agrees with parseDuration on every decimal with a unit', () => {
    const duration = fc
      .tuple(
        fc.nat({ max: 16 }).chain((length) => fc.stringMatching(new RegExp(`^[0-9]{1,${length + 1}}$`))),
        fc.option(fc.stringMatching(/^[0-9]{1,6}$/), { nil: undefined }),
        fc.constantFrom(...Object.keys(UNITS)),
      )
      .map(([whole, fraction, unit]) => `${whole}${fraction === undefined ? '' : `.${fraction}`}${unit}`);
    fc.assert(
      fc.property(duration, (text) => {
        let parses = true;
        try {
          parseDuration(text);
        } catch {
          parses = false;
        }
        expect({ text, matches: DURATION_PATTERN.test(text) }).toEqual({ text, matches: parses });
      }),
      { seed: 11, numRuns: 2000 },
    );
  });
});
