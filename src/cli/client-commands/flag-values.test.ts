import { expect, test } from 'bun:test';
import { attributesFlag, dateFlag, integerFlag, jsonFlag, listFlag, positionals } from './flag-values.ts';

test('JSON flags parse, and a mistake is a usage error naming the flag', () => {
  expect(jsonFlag('--input', '{"a":[1]}')).toEqual({ a: [1] });
  expect(() => jsonFlag('--payload', '{a:1}')).toThrow(/^--payload is not valid JSON/);
  expect(() => jsonFlag('--payload', '{a:1}')).toThrow(expect.objectContaining({ code: 'usage', exitCode: 2 }));
});

test('attributes are typed as the REST list reads attribute.<name>=<value>', () => {
  expect(attributesFlag(['tier=2', 'vip=true', 'region=eu', 'code="5"', 'note=a=b'])).toEqual({
    tier: 2,
    vip: true,
    region: 'eu',
    code: '5',
    note: 'a=b',
  });
  expect(() => attributesFlag(['tier'])).toThrow("--attribute takes name=value, not 'tier'");
  expect(() => attributesFlag(['a=1', 'a=2'])).toThrow('--attribute a is given twice');
});

test('dates are ISO dates, date-times, or a duration ago', () => {
  const now = Date.parse('2026-12-08T12:00:00Z');
  expect(dateFlag('--created-after', '2h', now)).toBe('2026-12-08T10:00:00.000Z');
  expect(dateFlag('--created-after', '2026-12-01', now)).toBe('2026-12-01T00:00:00.000Z');
  expect(dateFlag('--created-after', '2026-12-01T08:00:00+01:00', now)).toBe('2026-12-01T07:00:00.000Z');
  expect(dateFlag('--created-after', undefined, now)).toBeUndefined();
  expect(() => dateFlag('--updated-before', 'last week', now)).toThrow(/^--updated-before takes a date/);
});

test('integers, lists and positionals refuse what they cannot use', () => {
  expect(integerFlag('--after', '-1', -1)).toBe(-1);
  expect(() => integerFlag('--limit', '0', 1)).toThrow("--limit takes an integer of at least 1, not '0'");
  expect(() => integerFlag('--limit', '2.5', 1)).toThrow('--limit');
  expect(listFlag(['failed, timed_out', 'cancelled'])).toEqual(['failed', 'timed_out', 'cancelled']);
  expect(positionals(['o-1', 'approval'], ['<id>', '<name>'])).toEqual(['o-1', 'approval']);
  expect(() => positionals(['o-1'], ['<id>', '<name>'])).toThrow('missing <name>');
  expect(() => positionals(['o-1', 'x'], ['<id>'])).toThrow("unexpected argument 'x'");
});
