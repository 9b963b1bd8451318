/**
 * A write error that makes SQLite abandon the whole transaction fails the whole group.
 *
 * `PRAGMA max_page_count` makes SQLite itself report SQLITE_FULL part-way through a group, which is
 * one of the errors after which SQLite may roll back the entire transaction, savepoints included.
 */
import type { Database } from 'bun:sqlite';
import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import type { Mutation } from '../storage.ts';
import { bindMutation } from './bound-mutation.ts';
import { openDatabase } from './open-database.ts';
import { StorageWriteFailedError } from './sqlite-errors.ts';
import type { SQLiteStatements } from './sqlite-statements.ts';
import { finalizeStatements, prepareStatements } from './sqlite-statements.ts';
import { writeGroup } from './write-group.ts';

function createRun(id: string, bytes: number): Mutation {
  return {
    op: 'createRun',
    run: {
      id,
      type: 't',
      version: null,
      status: 'running',
      input: new Uint8Array(bytes),
      result: null,
      error: null,
      failureCategory: null,
      idempotencyKey: null,
      createdAt: 1,
      updatedAt: 1,
      deadline: null,
      parentId: null,
    },
  };
}

/**
 * A journal entry too large for the page budget. Not a large run: `runs` has triggers (run_counts),
 * and a statement that fires triggers keeps a statement journal, so SQLite rolls back only that
 * statement on SQLITE_FULL; a plain insert is what lets it abandon the whole transaction.
 */
function largeJournalEntry(runId: string): Mutation {
  return {
    op: 'appendJournal',
    entry: {
      runId,
      seq: 1,
      kind: 'activity',
      name: 'a',
      ok: true,
      value: new Uint8Array(1_000_000),
      error: null,
      createdAt: 1,
    },
  };
}

describe('writing a group', () => {
  let db: Database;
  let statements: SQLiteStatements;
  const write = (...batches: Mutation[][]): (Error | undefined)[] =>
    writeGroup(
      db,
      statements,
      ':memory:',
      batches.map((batch) => batch.map(bindMutation)),
    );
  const ids = (): string[] => (db.query('SELECT id FROM runs ORDER BY id').all() as { id: string }[]).map((r) => r.id);

  beforeEach(() => {
    db = openDatabase(':memory:', 'normal').db;
    statements = prepareStatements(db);
    const pages = (db.query('PRAGMA page_count').get() as { page_count: number }).page_count;
    db.run(`PRAGMA max_page_count = ${pages + 20}`);
  });
  afterEach(() => {
    finalizeStatements(statements);
    db.close();
  });

  test('a disk-full error part-way through a group fails every commit of it and leaves nothing behind', () => {
    const error = (() => {
      try {
        write([createRun('a', 10)], [largeJournalEntry('b')], [createRun('c', 10)]);
      } catch (thrown) {
        return thrown;
      }
      throw new Error('Expected the group to fail');
    })();
    expect(error).toBeInstanceOf(StorageWriteFailedError);
    expect(error).toMatchObject({
      code: 'storage_write_failed',
      retryable: true,
      details: { sqliteCode: 'SQLITE_FULL' },
    });
    expect(db.inTransaction).toBe(false);
    expect(ids()).toEqual([]);
  });

  test('after a failed group the next group writes normally', () => {
    expect(() => write([createRun('a', 10)], [largeJournalEntry('b')])).toThrow(StorageWriteFailedError);
    expect(write([createRun('c', 10)], [createRun('d', 10)])).toEqual([undefined, undefined]);
    expect(ids()).toEqual(['c', 'd']);
  });

  test('a commit alone in its group that hits disk-full fails by itself', () => {
    const [failure] = write([createRun('big', 1_000_000)]);
    expect(failure).toBeInstanceOf(StorageWriteFailedError);
    expect(ids()).toEqual([]);
  });

  test('conflicts roll back only their own commit, and the order of the group is kept', () => {
    const failures = write([createRun('a', 1)], [createRun('a', 1)], [createRun('b', 1)], [createRun('b', 1)]);
    expect(failures.map((f) => (f as { code?: string } | undefined)?.code)).toEqual([
      undefined,
      'workflow_already_exists',
      undefined,
      'workflow_already_exists',
    ]);
    expect(ids()).toEqual(['a', 'b']);
  });
});
