/**
 * Conformance tests for updates: `putUpdate` inserts, or replaces by id (its indexes following the
 * new version), an idempotency key is unique within a run (an `update_key` conflict that applies
 * nothing of its commit) and free across runs, and `listPendingUpdates` lists exactly the pending
 * ones, oldest first and then by id in binary order.
 */
import { describe, expect, test } from 'bun:test';
import { StorageConflictError, UpdateStatus } from '../../storage/storage.ts';
import type { ConformanceContext } from './helpers.ts';
import { makeUpdate, plain, rejectionOf } from './helpers.ts';

/** Registers the `updates` conformance tests; `open` gives each test a fresh storage. */
export function describeUpdates({ open }: ConformanceContext): void {
  describe('updates', () => {
    test('a put update reads back with every field intact, by id and by key', async () => {
      const storage = await open();
      const done = makeUpdate('u1', 'r1', {
        name: 'approve',
        idempotencyKey: 'k1',
        status: UpdateStatus.completed,
        result: new Uint8Array([0, 255]),
        createdAt: 10,
        completedAt: 20,
      });
      const failed = makeUpdate('u2', 'r1', {
        status: UpdateStatus.failed,
        error: { name: 'E', message: 'no', code: 'x', details: { nested: [1, 'a', null] } },
        completedAt: 30,
      });
      await storage.commit([
        { op: 'putUpdate', update: done },
        { op: 'putUpdate', update: failed },
      ]);
      expect((await storage.getUpdate('u1'))?.result).toBeInstanceOf(Uint8Array);
      expect(plain(await storage.getUpdate('u1'))).toEqual(plain(done));
      expect(plain(await storage.getUpdate('u2'))).toEqual(plain(failed));
      expect(plain(await storage.findUpdateByIdempotencyKey('r1', 'k1'))).toEqual(plain(done));
    });

    test('unknown ids and keys find nothing, and a key is looked up within its run', async () => {
      const storage = await open();
      await storage.commit([{ op: 'putUpdate', update: makeUpdate('u1', 'r1', { idempotencyKey: 'k' }) }]);
      expect(await storage.getUpdate('nope')).toBeUndefined();
      expect(await storage.findUpdateByIdempotencyKey('r1', 'other')).toBeUndefined();
      expect(await storage.findUpdateByIdempotencyKey('r2', 'k')).toBeUndefined();
    });

    test('putting an update with a taken id replaces it', async () => {
      const storage = await open();
      await storage.commit([{ op: 'putUpdate', update: makeUpdate('u1', 'r1', { idempotencyKey: 'k' }) }]);
      const completed = makeUpdate('u1', 'r1', {
        idempotencyKey: 'k',
        status: UpdateStatus.completed,
        result: new Uint8Array([1]),
        completedAt: 2_000,
      });
      await storage.commit([{ op: 'putUpdate', update: completed }]);
      expect(plain(await storage.getUpdate('u1'))).toEqual(plain(completed));
      expect(plain(await storage.findUpdateByIdempotencyKey('r1', 'k'))).toEqual(plain(completed));
    });

    test('replacing an update with another key frees its old key', async () => {
      const storage = await open();
      await storage.commit([{ op: 'putUpdate', update: makeUpdate('u1', 'r1', { idempotencyKey: 'old' }) }]);
      await storage.commit([{ op: 'putUpdate', update: makeUpdate('u1', 'r1', { idempotencyKey: 'new' }) }]);
      expect(await storage.findUpdateByIdempotencyKey('r1', 'old')).toBeUndefined();
      expect((await storage.findUpdateByIdempotencyKey('r1', 'new'))?.id).toBe('u1');
      await storage.commit([{ op: 'putUpdate', update: makeUpdate('u2', 'r1', { idempotencyKey: 'old' }) }]);
      expect((await storage.findUpdateByIdempotencyKey('r1', 'old'))?.id).toBe('u2');
      await storage.commit([{ op: 'putUpdate', update: makeUpdate('u1', 'r1') }]);
      expect(await storage.findUpdateByIdempotencyKey('r1', 'new')).toBeUndefined();
    });

    test('another update of the run taking a held key fails with update_key and applies nothing', async () => {
      const storage = await open();
      const held = makeUpdate('u1', 'r1', { idempotencyKey: 'k' });
      await storage.commit([{ op: 'putUpdate', update: held }]);
      const error = await rejectionOf(
        storage.commit([
          { op: 'putUpdate', update: makeUpdate('u3', 'r1') },
          { op: 'putUpdate', update: makeUpdate('u2', 'r1', { idempotencyKey: 'k' }) },
        ]),
      );
      expect(error).toBeInstanceOf(StorageConflictError);
      expect(error).toMatchObject({ code: 'storage_conflict', conflict: 'update_key' });
      expect(await storage.getUpdate('u2')).toBeUndefined();
      expect(await storage.getUpdate('u3')).toBeUndefined();
      expect(plain(await storage.findUpdateByIdempotencyKey('r1', 'k'))).toEqual(plain(held));
      expect((await storage.listPendingUpdates()).map((u) => u.id)).toEqual(['u1']);
    });

    test('two updates taking the same key in one commit fail and neither is stored', async () => {
      const storage = await open();
      const error = await rejectionOf(
        storage.commit([
          { op: 'putUpdate', update: makeUpdate('u1', 'r1', { idempotencyKey: 'k' }) },
          { op: 'putUpdate', update: makeUpdate('u2', 'r1', { idempotencyKey: 'k' }) },
        ]),
      );
      expect(error).toMatchObject({ conflict: 'update_key' });
      expect(await storage.getUpdate('u1')).toBeUndefined();
      expect(await storage.findUpdateByIdempotencyKey('r1', 'k')).toBeUndefined();
    });

    test('a failed replacement leaves the previous version in place', async () => {
      const storage = await open();
      const first = makeUpdate('u1', 'r1', { idempotencyKey: 'a' });
      await storage.commit([
        { op: 'putUpdate', update: first },
        { op: 'putUpdate', update: makeUpdate('u2', 'r1', { idempotencyKey: 'b' }) },
      ]);
      const error = await rejectionOf(
        storage.commit([
          { op: 'putUpdate', update: makeUpdate('u1', 'r1', { idempotencyKey: 'c', status: UpdateStatus.completed }) },
          { op: 'putUpdate', update: makeUpdate('u3', 'r1', { idempotencyKey: 'b' }) },
        ]),
      );
      expect(error).toMatchObject({ conflict: 'update_key' });
      expect(plain(await storage.getUpdate('u1'))).toEqual(plain(first));
      expect((await storage.findUpdateByIdempotencyKey('r1', 'a'))?.id).toBe('u1');
      expect(await storage.findUpdateByIdempotencyKey('r1', 'c')).toBeUndefined();
      expect((await storage.listPendingUpdates()).map((u) => u.id)).toEqual(['u1', 'u2']);
    });

    test('the same key in different runs, and updates without a key, never conflict', async () => {
      const storage = await open();
      await storage.commit([
        { op: 'putUpdate', update: makeUpdate('u1', 'r1', { idempotencyKey: 'k' }) },
        { op: 'putUpdate', update: makeUpdate('u2', 'r2', { idempotencyKey: 'k' }) },
        { op: 'putUpdate', update: makeUpdate('u3', 'r1') },
        { op: 'putUpdate', update: makeUpdate('u4', 'r1') },
      ]);
      expect((await storage.findUpdateByIdempotencyKey('r1', 'k'))?.id).toBe('u1');
      expect((await storage.findUpdateByIdempotencyKey('r2', 'k'))?.id).toBe('u2');
      expect(await storage.getUpdate('u4')).toBeDefined();
    });

    test('listPendingUpdates lists the pending updates of every run, oldest first and then by id', async () => {
      const storage = await open();
      await storage.commit([
        { op: 'putUpdate', update: makeUpdate('u-late', 'r1', { createdAt: 30 }) },
        { op: 'putUpdate', update: makeUpdate('b', 'r2', { createdAt: 10 }) },
        { op: 'putUpdate', update: makeUpdate('B', 'r1', { createdAt: 10 }) },
        { op: 'putUpdate', update: makeUpdate('a', 'r3', { createdAt: 10 }) },
        { op: 'putUpdate', update: makeUpdate('done', 'r1', { createdAt: 1, status: UpdateStatus.completed }) },
        { op: 'putUpdate', update: makeUpdate('bad', 'r2', { createdAt: 2, status: UpdateStatus.failed }) },
        { op: 'putUpdate', update: makeUpdate('u-mid', 'r2', { createdAt: 20 }) },
      ]);
      const pending = async (): Promise<string[]> => (await storage.listPendingUpdates()).map((u) => u.id);
      expect(await pending()).toEqual(['B', 'a', 'b', 'u-mid', 'u-late']);
      await storage.commit([
        { op: 'putUpdate', update: makeUpdate('a', 'r3', { createdAt: 10, status: UpdateStatus.completed }) },
        { op: 'putUpdate', update: makeUpdate('done', 'r1', { createdAt: 1 }) },
      ]);
      expect(await pending()).toEqual(['done', 'B', 'b', 'u-mid', 'u-late']);
      expect(plain((await storage.listPendingUpdates())[0])).toEqual(plain(makeUpdate('done', 'r1', { createdAt: 1 })));
    });

    test('listPendingUpdates is empty when no update is pending', async () => {
      const storage = await open();
      expect(await storage.listPendingUpdates()).toEqual([]);
      await storage.commit([
        { op: 'putUpdate', update: makeUpdate('u1', 'r1', { status: UpdateStatus.completed, completedAt: 5 }) },
      ]);
      expect(await storage.listPendingUpdates()).toEqual([]);
    });
  });
}
