/** The statement cache reuses a statement per SQL text, stays within its capacity and frees what it drops. */
import { Database } from 'bun:sqlite';
import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { StatementCache } from './statement-cache.ts';

describe('StatementCache', () => {
  let db: Database;
  beforeEach(() => {
    db = new Database(':memory:');
  });
  afterEach(() => db.close());

  test('the same SQL text gets the same prepared statement', () => {
    const cache = new StatementCache(db, 4);
    const first = cache.get<{ n: number }>('SELECT ? AS n');
    expect(cache.get('SELECT ? AS n')).toBe(first);
    expect(first.get(7)).toEqual({ n: 7 });
    expect(cache.size).toBe(1);
    cache.finalizeAll();
  });

  test('past its capacity it drops the least recently used statement, finalized', () => {
    const cache = new StatementCache(db, 2);
    const a = cache.get('SELECT 1');
    const b = cache.get('SELECT 2');
    cache.get('SELECT 1'); // now b is the least recently used
    cache.get('SELECT 3');
    expect(cache.size).toBe(2);
    expect(cache.get('SELECT 1')).toBe(a);
    // b was finalized when it was dropped: running it throws, and asking again prepares a new one.
    expect(() => b.get()).toThrow();
    expect(cache.get('SELECT 2')).not.toBe(b);
    cache.finalizeAll();
    expect(cache.size).toBe(0);
  });
});
