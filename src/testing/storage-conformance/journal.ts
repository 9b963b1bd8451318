/**
 * Conformance tests for the journal: entries read back with every field intact and in seq order
 * whatever order they were appended in, and a taken `(runId, seq)` is a `journal_seq` conflict that
 * applies nothing of its commit, while the same seq in different runs is fine.
 */
import { describe, expect, test } from 'bun:test';
import { StorageConflictError } from '../../storage/storage.ts';
import type { ConformanceContext } from './helpers.ts';
import { makeEntry, plain, rejectionOf } from './helpers.ts';

/** Registers the `journal` conformance tests; `open` gives each test a fresh storage. */
export function describeJournal({ open }: ConformanceContext): void {
  describe('journal', () => {
    test('getJournal returns entries with every field intact', async () => {
      const storage = await open();
      const ok = makeEntry('r1', 1, {
        kind: 'activity',
        name: 'charge',
        value: new Uint8Array([1, 2]),
        createdAt: 11,
      });
      const failed = makeEntry('r1', 2, {
        kind: 'activity',
        name: 'ship',
        ok: false,
        error: {
          name: 'ActivityFailedError',
          message: 'gone',
          code: 'activity_failed',
          retryable: false,
          details: { attempts: 3 },
        },
        createdAt: 12,
      });
      const bare = makeEntry('r1', 3, { kind: 'now', name: '', value: null });
      await storage.commit([
        { op: 'appendJournal', entry: ok },
        { op: 'appendJournal', entry: failed },
        { op: 'appendJournal', entry: bare },
      ]);
      expect(plain(await storage.getJournal('r1'))).toEqual(plain([ok, failed, bare]));
    });

    test('getJournal of a run without entries is empty', async () => {
      const storage = await open();
      expect(await storage.getJournal('nope')).toEqual([]);
    });

    test('appending a taken (runId, seq) fails with a journal_seq conflict and applies nothing', async () => {
      const storage = await open();
      const first = makeEntry('r1', 1, { value: new Uint8Array([1]) });
      await storage.commit([{ op: 'appendJournal', entry: first }]);
      const error = await rejectionOf(
        storage.commit([
          { op: 'appendJournal', entry: makeEntry('r1', 2) },
          { op: 'appendJournal', entry: makeEntry('r1', 1, { value: new Uint8Array([2]) }) },
        ]),
      );
      expect(error).toBeInstanceOf(StorageConflictError);
      expect(error).toMatchObject({ code: 'storage_conflict', conflict: 'journal_seq' });
      expect(plain(await storage.getJournal('r1'))).toEqual(plain([first]));
    });

    test('appending the same seq twice in one commit fails', async () => {
      const storage = await open();
      const error = await rejectionOf(
        storage.commit([
          { op: 'appendJournal', entry: makeEntry('r1', 1) },
          { op: 'appendJournal', entry: makeEntry('r1', 1) },
        ]),
      );
      expect(error).toMatchObject({ conflict: 'journal_seq' });
      expect(await storage.getJournal('r1')).toEqual([]);
    });

    test('the same seq in different runs does not conflict', async () => {
      const storage = await open();
      await storage.commit([
        { op: 'appendJournal', entry: makeEntry('r1', 1) },
        { op: 'appendJournal', entry: makeEntry('r2', 1) },
      ]);
      expect(await storage.getJournal('r1')).toHaveLength(1);
      expect(await storage.getJournal('r2')).toHaveLength(1);
    });

    test('getJournal returns seq order even when entries were appended out of order', async () => {
      const storage = await open();
      await storage.commit([{ op: 'appendJournal', entry: makeEntry('r1', 3) }]);
      await storage.commit([{ op: 'appendJournal', entry: makeEntry('r1', 1) }]);
      await storage.commit([
        { op: 'appendJournal', entry: makeEntry('r1', 10) },
        { op: 'appendJournal', entry: makeEntry('r1', 2) },
      ]);
      expect((await storage.getJournal('r1')).map((e) => e.seq)).toEqual([1, 2, 3, 10]);
    });
  });
}
