import { describe, expect, test } from 'bun:test';
import { MAX_DURATION_MS, parseDuration } from './duration.ts';
import { InvalidDurationError } from './errors.ts';

function rejection(value: unknown): unknown {
  try {
    parseDuration(value);
  } catch (error) {
    return error;
  }
  throw new Error(`parseDuration(${String(value)}) was expected to throw`);
}

describe('parseDuration', () => {
  test.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
  ])('reads %p as %p milliseconds', (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  test('reads decimal amounts of a unit', () => {
    expect(parseDuration('1.5s')).toBe(1_500);
    expect(parseDuration('0.25h')).toBe(900_000);
  });

  test('rounds fractional milliseconds to the nearest whole millisecond', () => {
    expect(parseDuration('1.4ms')).toBe(1);
    expect(parseDuration(2.6)).toBe(3);
  });

  test('takes a number as milliseconds', () => {
    expect(parseDuration(0)).toBe(0);
    expect(parseDuration(1_000)).toBe(1_000);
  });

  test('accepts zero and the maximum, inclusive', () => {
    expect(parseDuration('0s')).toBe(0);
    expect(parseDuration(MAX_DURATION_MS)).toBe(MAX_DURATION_MS);
  });

  test.each([
    ['a unit spelled out with a space', '5 min'],
    ['an empty string', ''],
    ['a number without a unit in a string', '100'],
    ['an unknown unit', '3w'],
    ['a negative string', '-5s'],
    ['exponent notation', '1e3ms'],
  ])('rejects %s', (_label, input) => {
    expect(() => parseDuration(input)).toThrow(InvalidDurationError);
  });

  test.each([
    ['a negative number', -1],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a number over the maximum', MAX_DURATION_MS + 1],
  ])('rejects %s', (_label, input) => {
    expect(() => parseDuration(input)).toThrow(InvalidDurationError);
  });

  test('rejects a string over the maximum', () => {
    expect(() => parseDuration('36501d')).toThrow(InvalidDurationError);
  });

  test.each([
    ['an object', { ms: 5 }],
    ['an object with no prototype', Object.create(null) as unknown],
    ['null', null],
    ['undefined', undefined],
    ['a boolean', true],
    ['a bigint', 5n],
  ])('rejects %s with a clear error', (_label, input) => {
    expect(() => parseDuration(input)).toThrow(InvalidDurationError);
  });

  test('reports the invalid_duration code and the offending value', () => {
    const error = rejection('5 min');
    expect(error).toBeInstanceOf(InvalidDurationError);
    expect(error).toMatchObject({ code: 'invalid_duration', retryable: false, details: { value: '5 min' } });
    expect((error as Error).message).toContain('"5 min"');
    expect((error as Error).message).toContain("'30s'");
  });
});
