/**
 * Conformance tests for closing: after `close` every method rejects with `storage_closed` (the call
 * table is typed against `Storage`, so a new method does not compile until it is listed), and
 * closing twice or disposing after close both resolve.
 */
import { describe, expect, test } from 'bun:test';
import type { Storage } from '../../storage/storage.ts';
import { RunStatus } from '../../storage/storage.ts';
import type { ConformanceContext } from './helpers.ts';
import { makeRun, rejectionOf } from './helpers.ts';

/** Registers the `close` conformance tests; `open` gives each test a fresh storage. */
export function describeClose({ open }: ConformanceContext): void {
  describe('close', () => {
    test('after close every method rejects with storage_closed', async () => {
      const storage = await open();
      await storage.close();
      // `pendingCommits` reports rather than reads, and close() has written every accepted commit.
      expect(storage.pendingCommits?.() ?? 0).toBe(0);
      /** Typed against the contract: a new `Storage` method does not compile here until it is listed. */
      type Call = Exclude<keyof Storage, 'close' | 'pendingCommits' | typeof Symbol.asyncDispose>;
      const calls: Record<Call, () => Promise<unknown>> = {
        commit: () => storage.commit([{ op: 'createRun', run: makeRun({ id: 'r1' }) }]),
        getRun: () => storage.getRun('r1'),
        findRunByIdempotencyKey: () => storage.findRunByIdempotencyKey('k'),
        listRunsByStatus: () => storage.listRunsByStatus([RunStatus.pending]),
        getJournal: () => storage.getJournal('r1'),
        listTimers: () => storage.listTimers(),
        listRunTimers: () => storage.listRunTimers('r1'),
        peekSignal: () => storage.peekSignal('r1', 'go'),
        listSignalledRunIds: () => storage.listSignalledRunIds(),
        getAttributes: () => storage.getAttributes('r1'),
        listRuns: () => storage.listRuns({}, { limit: 10 }),
        aggregateRuns: () => storage.aggregateRuns('status', {}, 10),
        getUpdate: () => storage.getUpdate('u1'),
        findUpdateByIdempotencyKey: () => storage.findUpdateByIdempotencyKey('r1', 'k'),
        listPendingUpdates: () => storage.listPendingUpdates(),
        readEvents: () => storage.readEvents(0, 10),
        lastEventSeq: () => storage.lastEventSeq(),
        readWatch: () => storage.readWatch('r1', 0, 10),
        readChunks: () => storage.readChunks('r1', 0, 10),
        runTails: () => storage.runTails('r1'),
      };
      for (const [method, call] of Object.entries(calls)) {
        const error = await rejectionOf(call());
        expect({ method, error }).toMatchObject({ method, error: { code: 'storage_closed' } });
      }
      expect(await rejectionOf(storage.commit([]))).toMatchObject({ code: 'storage_closed' });
    });

    test('closing again and disposing after close both resolve', async () => {
      const storage = await open();
      await storage.close();
      await storage.close();
      await storage[Symbol.asyncDispose]();
      expect(await rejectionOf(storage.getRun('r1'))).toMatchObject({ code: 'storage_closed' });
    });

    test('Symbol.asyncDispose closes the storage', async () => {
      const storage = await open();
      await storage[Symbol.asyncDispose]();
      expect(await rejectionOf(storage.listTimers())).toMatchObject({ code: 'storage_closed' });
    });
  });
}
