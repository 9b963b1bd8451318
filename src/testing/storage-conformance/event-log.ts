/**
 * Conformance tests for the fleet event log: events read back with every field intact, `readEvents`
 * returns those after a seq in ascending order (whatever order they were appended in), at most
 * `limit`, a taken seq is an `event_seq` conflict that applies nothing of its commit, `pruneEvents`
 * removes exactly the events up to and including its seq, and `lastEventSeq` is the highest seq
 * stored.
 */
import { describe, expect, test } from 'bun:test';
import type { EventRecord, Storage } from '../../storage/storage.ts';
import { StorageConflictError } from '../../storage/storage.ts';
import type { ConformanceContext } from './helpers.ts';
import { makeEvent, plain, rejectionOf } from './helpers.ts';

/** Registers the `event log` conformance tests; `open` gives each test a fresh storage. */
export function describeEventLog({ open }: ConformanceContext): void {
  describe('event log', () => {
    const seqs = (events: EventRecord[]): number[] => events.map((event) => event.seq);

    /** Events 2, 3, 5, 8 and 9, appended over three commits and out of order. */
    async function seeded(): Promise<Storage> {
      const storage = await open();
      await storage.commit([{ op: 'appendEvent', event: makeEvent(5) }]);
      await storage.commit([
        { op: 'appendEvent', event: makeEvent(2) },
        { op: 'appendEvent', event: makeEvent(9) },
      ]);
      await storage.commit([
        { op: 'appendEvent', event: makeEvent(3) },
        { op: 'appendEvent', event: makeEvent(8) },
      ]);
      return storage;
    }

    test('events read back with every field intact', async () => {
      const storage = await open();
      const withRun = makeEvent(1, { type: 'workflow:completed', runId: 'r1', at: 42, data: new Uint8Array([0, 255]) });
      const fleet = makeEvent(2, { type: 'engine:started', runId: null, at: 43, data: null });
      const empty = makeEvent(3, { data: new Uint8Array() });
      await storage.commit([
        { op: 'appendEvent', event: withRun },
        { op: 'appendEvent', event: fleet },
        { op: 'appendEvent', event: empty },
      ]);
      const events = await storage.readEvents(0, 10);
      expect(events[0]?.data).toBeInstanceOf(Uint8Array);
      expect(plain(events)).toEqual(plain([withRun, fleet, empty]));
    });

    test('readEvents returns the events after a seq in ascending order', async () => {
      const storage = await seeded();
      expect(seqs(await storage.readEvents(0, 100))).toEqual([2, 3, 5, 8, 9]);
      expect(seqs(await storage.readEvents(3, 100))).toEqual([5, 8, 9]);
      expect(seqs(await storage.readEvents(4, 100))).toEqual([5, 8, 9]);
      expect(seqs(await storage.readEvents(9, 100))).toEqual([]);
      expect(seqs(await storage.readEvents(-1, 100))).toEqual([2, 3, 5, 8, 9]);
    });

    test('readEvents returns at most limit events, the earliest ones', async () => {
      const storage = await seeded();
      expect(seqs(await storage.readEvents(0, 2))).toEqual([2, 3]);
      expect(seqs(await storage.readEvents(3, 2))).toEqual([5, 8]);
      expect(seqs(await storage.readEvents(8, 2))).toEqual([9]);
      expect(seqs(await storage.readEvents(0, 0))).toEqual([]);
    });

    test('an empty log reads empty and its last seq is 0', async () => {
      const storage = await open();
      expect(await storage.readEvents(0, 10)).toEqual([]);
      expect(await storage.lastEventSeq()).toBe(0);
    });

    test('lastEventSeq is the highest seq stored, whatever the order of appends', async () => {
      const storage = await seeded();
      expect(await storage.lastEventSeq()).toBe(9);
      await storage.commit([{ op: 'appendEvent', event: makeEvent(6) }]);
      expect(await storage.lastEventSeq()).toBe(9);
      await storage.commit([{ op: 'appendEvent', event: makeEvent(1_000_000) }]);
      expect(await storage.lastEventSeq()).toBe(1_000_000);
    });

    test('appending a taken seq fails with an event_seq conflict and applies nothing', async () => {
      const storage = await seeded();
      const error = await rejectionOf(
        storage.commit([
          { op: 'appendEvent', event: makeEvent(10) },
          { op: 'appendEvent', event: makeEvent(5, { type: 'other' }) },
        ]),
      );
      expect(error).toBeInstanceOf(StorageConflictError);
      expect(error).toMatchObject({ code: 'storage_conflict', conflict: 'event_seq' });
      expect(seqs(await storage.readEvents(0, 100))).toEqual([2, 3, 5, 8, 9]);
      expect((await storage.readEvents(4, 1))[0]?.type).toBe('workflow:started');
      expect(await storage.lastEventSeq()).toBe(9);
    });

    test('appending the same seq twice in one commit fails and stores neither', async () => {
      const storage = await open();
      const error = await rejectionOf(
        storage.commit([
          { op: 'appendEvent', event: makeEvent(1) },
          { op: 'appendEvent', event: makeEvent(1) },
        ]),
      );
      expect(error).toMatchObject({ conflict: 'event_seq' });
      expect(await storage.readEvents(0, 10)).toEqual([]);
    });

    test('pruneEvents removes the events up to and including its seq', async () => {
      const storage = await seeded();
      await storage.commit([{ op: 'pruneEvents', throughSeq: 3 }]);
      expect(seqs(await storage.readEvents(0, 100))).toEqual([5, 8, 9]);
      await storage.commit([{ op: 'pruneEvents', throughSeq: 7 }]);
      expect(seqs(await storage.readEvents(0, 100))).toEqual([8, 9]);
      await storage.commit([{ op: 'pruneEvents', throughSeq: 1 }]);
      expect(seqs(await storage.readEvents(0, 100))).toEqual([8, 9]);
      expect(await storage.lastEventSeq()).toBe(9);
    });

    test('pruning through the newest seq empties the log, and the last seq becomes 0', async () => {
      const storage = await seeded();
      await storage.commit([{ op: 'pruneEvents', throughSeq: 9 }]);
      expect(await storage.readEvents(0, 100)).toEqual([]);
      expect(await storage.lastEventSeq()).toBe(0);
      await storage.commit([{ op: 'appendEvent', event: makeEvent(10) }]);
      expect(seqs(await storage.readEvents(0, 100))).toEqual([10]);
    });

    test('a prune and appends in one commit apply in order', async () => {
      const storage = await seeded();
      await storage.commit([
        { op: 'appendEvent', event: makeEvent(10) },
        { op: 'pruneEvents', throughSeq: 10 },
        { op: 'appendEvent', event: makeEvent(11) },
      ]);
      expect(seqs(await storage.readEvents(0, 100))).toEqual([11]);
    });

    test('a failed commit leaves pruned events in place', async () => {
      const storage = await seeded();
      const error = await rejectionOf(
        storage.commit([
          { op: 'pruneEvents', throughSeq: 8 },
          { op: 'appendEvent', event: makeEvent(4) },
          { op: 'appendEvent', event: makeEvent(9) },
        ]),
      );
      expect(error).toMatchObject({ conflict: 'event_seq' });
      expect(seqs(await storage.readEvents(0, 100))).toEqual([2, 3, 5, 8, 9]);
    });
  });
}
