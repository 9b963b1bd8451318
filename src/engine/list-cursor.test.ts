import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import type { RunQuery } from '../storage/storage.ts';
import { decodeCursor, encodeCursor, MAX_CURSOR_LENGTH } from './list-cursor.ts';

const key = fc.record({
  createdAt: fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
  id: fc.string({ minLength: 1, maxLength: 256, unit: 'grapheme' }),
});

describe('list cursors', () => {
  test('any key comes back from its cursor, which is base64url and within the longest accepted', () => {
    fc.assert(
      fc.property(key, (k) => {
        const cursor = encodeCursor(k, { statuses: ['failed'] });
        expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(cursor.length).toBeLessThanOrEqual(MAX_CURSOR_LENGTH);
        expect(decodeCursor(cursor, { statuses: ['failed'] })).toEqual(k);
      }),
      { seed: 19, numRuns: 300 },
    );
  });

  test('the longest id, in characters JSON escapes, still makes a cursor the engine and the documents accept', () => {
    for (const id of ['\u0001'.repeat(256), '\u{10FFFF}'.repeat(128), '"'.repeat(256)]) {
      const k = { createdAt: -(2 ** 53) + 1, id };
      const cursor = encodeCursor(k, {});
      expect(cursor.length).toBeLessThanOrEqual(MAX_CURSOR_LENGTH);
      expect(decodeCursor(cursor, {})).toEqual(k);
    }
  });

  test('a cursor with any one character changed is refused with invalid_cursor', () => {
    const cursor = encodeCursor({ createdAt: 1_765_000_000_000, id: 'order-42' }, {});
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let at = 0; at < cursor.length; at++) {
      for (const char of alphabet) {
        if (char === cursor[at]) continue;
        const changed = cursor.slice(0, at) + char + cursor.slice(at + 1);
        let key: unknown;
        try {
          key = decodeCursor(changed, {});
        } catch (error) {
          expect(error).toMatchObject({ code: 'invalid_cursor', details: { field: 'cursor' } });
          continue;
        }
        // The last character's low bits are padding base64 ignores: the same bytes, the same key.
        expect(key).toEqual({ createdAt: 1_765_000_000_000, id: 'order-42' });
        expect(at).toBe(cursor.length - 1);
      }
    }
  });

  test('the filter check ignores the order and repeats of list values, and sees every field', () => {
    const k = { createdAt: 5, id: 'a' };
    const base: RunQuery = { statuses: ['failed', 'running'], types: ['t'], attributes: { n: 1, s: 'x' } };
    const cursor = encodeCursor(k, base);
    expect(decodeCursor(cursor, { ...base, statuses: ['running', 'failed', 'failed'] })).toEqual(k);
    expect(decodeCursor(cursor, { ...base, attributes: { s: 'x', n: 1 } })).toEqual(k);
    for (const other of [
      { ...base, statuses: ['failed'] },
      { ...base, types: ['u'] },
      { ...base, attributes: { n: '1', s: 'x' } },
      { ...base, attributes: { n: true, s: 'x' } },
      { ...base, idPrefix: 'a' },
      { ...base, failureCategories: ['activity'] },
      { ...base, parentId: 'p' },
      { ...base, createdAfter: 0 },
      { ...base, createdBefore: 0 },
      { ...base, updatedAfter: 0 },
      { ...base, updatedBefore: 0 },
      { ...base, deadlineAfter: 0 },
      { ...base, deadlineBefore: 0 },
    ] as RunQuery[]) {
      expect(() => decodeCursor(cursor, other)).toThrow(/another filter/);
    }
  });

  test('a cursor of another version is refused as such', () => {
    const text = JSON.stringify([2, 5, 'a', 0, 0]);
    const cursor = btoa(text).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
    expect(() => decodeCursor(cursor, {})).toThrow(/another version/);
  });
});
