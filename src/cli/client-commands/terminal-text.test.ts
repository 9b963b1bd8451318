import { expect, test } from 'bun:test';
import { block, cut, elapsed, fields, isoSeconds, oneLine, printable, table } from './terminal-text.ts';

test('a table aligns every column on its widest cell and leaves the last one unpadded', () => {
  expect(
    table(
      ['ID', 'STATUS', 'NOTE'],
      [
        ['order-1', 'running', ''],
        ['o', 'completed', 'x'],
      ],
    ),
  ).toBe(['ID       STATUS     NOTE', 'order-1  running', 'o        completed  x'].join('\n'));
});

test('dates lose their milliseconds but stay ISO 8601; a missing one is a dash', () => {
  expect(isoSeconds('2026-12-08T01:45:03.892Z')).toBe('2026-12-08T01:45:03Z');
  expect(isoSeconds('2026-12-08T01:45:03.892+02:00')).toBe('2026-12-08T01:45:03+02:00');
  expect(isoSeconds(null)).toBe('-');
});

test('long values are cut with an ellipsis and control characters are escaped, not written', () => {
  expect(cut('abcdef', 4)).toBe('abc…');
  expect(cut('abc', 4)).toBe('abc');
  expect(printable('red\u001b[31m\r\n')).toBe('red\\u001b[31m\\r\\n');
  expect(oneLine({ a: 'x'.repeat(100) })).toHaveLength(80);
  expect(oneLine(undefined)).toBe('-');
});

test('a value too long for its line is indented JSON below its label, at most 20 lines', () => {
  expect(block({ a: 1 })).toBe('{"a":1}');
  const long = block(Array.from({ length: 30 }, (_, i) => `item ${i} ${'x'.repeat(10)}`));
  expect(
    fields([
      ['id', 'o-1'],
      ['input', long],
    ]).split('\n'),
  ).toEqual([
    'id     o-1',
    'input',
    '       [',
    ...Array.from({ length: 19 }, (_, i) => `         "item ${i} xxxxxxxxxx",`),
    '       … 12 more lines (--json shows everything)',
  ]);
});

test('elapsed times read as seconds, minutes or hours', () => {
  expect(elapsed(45_000)).toBe('45s');
  expect(elapsed(185_000)).toBe('3m05s');
  expect(elapsed(7_800_000)).toBe('2h10m');
});
