/**
 * Conformance tests for the signal inbox: messages get numeric ids that increase with arrival (even
 * after a rolled-back enqueue), `peekSignal` returns the oldest message of a name in a run, and a
 * message can be consumed once only; a second consume is a `signal_missing` conflict.
 */
import { describe, expect, test } from 'bun:test';
import { StorageConflictError } from '../../storage/storage.ts';
import type { ConformanceContext } from './helpers.ts';
import { plain, rejectionOf, signal } from './helpers.ts';

/** Registers the `inbox` conformance tests; `open` gives each test a fresh storage. */
export function describeInbox({ open }: ConformanceContext): void {
  describe('inbox', () => {
    test('peekSignal returns the whole message, with a numeric id', async () => {
      const storage = await open();
      await storage.commit([
        { op: 'enqueueSignal', message: { runId: 'r1', name: 'go', payload: new Uint8Array([5, 6]), createdAt: 42 } },
      ]);
      const message = await storage.peekSignal('r1', 'go');
      expect(typeof message?.id).toBe('number');
      expect(plain(message)).toEqual(
        plain({ id: message?.id, runId: 'r1', name: 'go', payload: new Uint8Array([5, 6]), createdAt: 42 }),
      );
    });

    test('listSignalledRunIds names exactly the runs whose inbox holds a message, in order', async () => {
      const storage = await open();
      expect(await storage.listSignalledRunIds()).toEqual([]);
      await storage.commit([signal('r2', 'a', 1), signal('r1', 'a', 2), signal('r2', 'b', 3), signal('r3', 'a', 4)]);
      expect(await storage.listSignalledRunIds()).toEqual(['r1', 'r2', 'r3']);
      const consumed = await storage.peekSignal('r3', 'a');
      await storage.commit([{ op: 'consumeSignal', id: consumed!.id }]);
      expect(await storage.listSignalledRunIds()).toEqual(['r1', 'r2']);
    });

    test('message ids increase with arrival across runs and names', async () => {
      const storage = await open();
      await storage.commit([signal('r1', 'a', 1), signal('r2', 'a', 2), signal('r1', 'b', 3)]);
      await storage.commit([signal('r2', 'b', 4)]);
      const ids = await Promise.all(
        [
          ['r1', 'a'],
          ['r2', 'a'],
          ['r1', 'b'],
          ['r2', 'b'],
        ].map(async ([runId = '', name = '']) => (await storage.peekSignal(runId, name))?.id ?? Number.NaN),
      );
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
      expect(new Set(ids).size).toBe(4);
    });

    test('peekSignal returns the oldest message of that name in that run, or undefined', async () => {
      const storage = await open();
      await storage.commit([signal('r1', 'go', 1), signal('r1', 'other', 9), signal('r2', 'go', 8)]);
      await storage.commit([signal('r1', 'go', 2)]);
      expect(plain((await storage.peekSignal('r1', 'go'))?.payload)).toEqual([1]);
      expect(plain((await storage.peekSignal('r1', 'other'))?.payload)).toEqual([9]);
      expect(await storage.peekSignal('r1', 'nope')).toBeUndefined();
      expect(await storage.peekSignal('r3', 'go')).toBeUndefined();
    });

    test('consumeSignal removes the message so peekSignal moves on to the next', async () => {
      const storage = await open();
      await storage.commit([signal('r1', 'go', 1), signal('r1', 'go', 2)]);
      const first = await storage.peekSignal('r1', 'go');
      await storage.commit([{ op: 'consumeSignal', id: first?.id ?? -1 }]);
      const second = await storage.peekSignal('r1', 'go');
      expect(plain(second?.payload)).toEqual([2]);
      await storage.commit([{ op: 'consumeSignal', id: second?.id ?? -1 }]);
      expect(await storage.peekSignal('r1', 'go')).toBeUndefined();
    });

    test('consuming a message twice fails with a signal_missing conflict and applies nothing', async () => {
      const storage = await open();
      await storage.commit([signal('r1', 'go', 1)]);
      const id = (await storage.peekSignal('r1', 'go'))?.id ?? -1;
      await storage.commit([{ op: 'consumeSignal', id }]);
      const error = await rejectionOf(storage.commit([signal('r1', 'go', 2), { op: 'consumeSignal', id }]));
      expect(error).toBeInstanceOf(StorageConflictError);
      expect(error).toMatchObject({ code: 'storage_conflict', conflict: 'signal_missing' });
      expect(await storage.peekSignal('r1', 'go')).toBeUndefined();
    });

    test('consuming the same message twice in one commit fails and keeps the message', async () => {
      const storage = await open();
      await storage.commit([signal('r1', 'go', 1)]);
      const id = (await storage.peekSignal('r1', 'go'))?.id ?? -1;
      const error = await rejectionOf(
        storage.commit([
          { op: 'consumeSignal', id },
          { op: 'consumeSignal', id },
        ]),
      );
      expect(error).toMatchObject({ conflict: 'signal_missing' });
      expect((await storage.peekSignal('r1', 'go'))?.id).toBe(id);
    });

    test('ids keep increasing after a rolled-back enqueue', async () => {
      const storage = await open();
      await storage.commit([signal('r1', 'a', 1)]);
      const before = (await storage.peekSignal('r1', 'a'))?.id ?? Number.NaN;
      await rejectionOf(storage.commit([signal('r1', 'b', 2), { op: 'consumeSignal', id: -1 }]));
      expect(await storage.peekSignal('r1', 'b')).toBeUndefined();
      await storage.commit([signal('r1', 'c', 3)]);
      expect((await storage.peekSignal('r1', 'c'))?.id).toBeGreaterThan(before);
    });
  });
}
