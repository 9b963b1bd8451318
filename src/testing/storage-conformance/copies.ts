/**
 * Conformance tests for isolation between callers and storage: changing what was passed to
 * `commit`, or a record a read returned, never changes what is stored, and a byte view over a
 * larger buffer is stored as just the bytes it covers. The trap is an in-memory adapter that keeps
 * or hands out references instead of copies.
 */
import { describe, expect, test } from 'bun:test';
import type { InboxMessage, Mutation, RunRecord, TimerRecord } from '../../storage/storage.ts';
import { RunStatus } from '../../storage/storage.ts';
import type { ConformanceContext } from './helpers.ts';
import { makeEntry, makeRun, plain, signal } from './helpers.ts';

/** Registers the `copies` conformance tests; `open` gives each test a fresh storage. */
export function describeCopies({ open }: ConformanceContext): void {
  describe('copies', () => {
    test('changing what was passed to commit afterwards does not change what is stored', async () => {
      const storage = await open();
      const run = makeRun({
        id: 'r1',
        input: new Uint8Array([1]),
        error: { name: 'E', message: 'm', details: { n: 1 } },
      });
      const entry = makeEntry('r1', 1, { value: new Uint8Array([2]) });
      const timer: TimerRecord = { runId: 'r1', key: 'k', fireAt: 10 };
      const message = { runId: 'r1', name: 'go', payload: new Uint8Array([3]), createdAt: 1 };
      const mutations: Mutation[] = [
        { op: 'createRun', run },
        { op: 'appendJournal', entry },
        { op: 'putTimer', timer },
        { op: 'enqueueSignal', message },
      ];
      await storage.commit(mutations);
      run.input[0] = 99;
      run.status = RunStatus.failed;
      (run.error?.details as { n: number }).n = 99;
      (entry.value as Uint8Array)[0] = 99;
      timer.fireAt = 99;
      message.payload[0] = 99;
      mutations.length = 0;
      expect(await storage.getRun('r1')).toMatchObject({ status: RunStatus.pending, error: { details: { n: 1 } } });
      expect(plain((await storage.getRun('r1'))?.input)).toEqual([1]);
      expect(plain((await storage.getJournal('r1'))[0]?.value)).toEqual([2]);
      expect((await storage.listTimers())[0]?.fireAt).toBe(10);
      expect(plain((await storage.peekSignal('r1', 'go'))?.payload)).toEqual([3]);
    });

    test('changing a returned record does not change what is stored', async () => {
      const storage = await open();
      await storage.commit([
        {
          op: 'createRun',
          run: makeRun({
            id: 'r1',
            input: new Uint8Array([1]),
            error: { name: 'E', message: 'm', details: { n: 1 } },
          }),
        },
        { op: 'appendJournal', entry: makeEntry('r1', 1, { value: new Uint8Array([2]) }) },
        { op: 'putTimer', timer: { runId: 'r1', key: 'k', fireAt: 10 } },
        signal('r1', 'go', 3),
      ]);
      const run = (await storage.getRun('r1')) as RunRecord;
      run.input[0] = 99;
      (run.error?.details as { n: number }).n = 99;
      ((await storage.getJournal('r1'))[0]?.value as Uint8Array)[0] = 99;
      ((await storage.listTimers())[0] as TimerRecord).fireAt = 99;
      ((await storage.peekSignal('r1', 'go')) as InboxMessage).payload[0] = 99;
      expect(plain((await storage.getRun('r1'))?.input)).toEqual([1]);
      expect(await storage.getRun('r1')).toMatchObject({ error: { details: { n: 1 } } });
      expect(plain((await storage.getJournal('r1'))[0]?.value)).toEqual([2]);
      expect((await storage.listTimers())[0]?.fireAt).toBe(10);
      expect(plain((await storage.peekSignal('r1', 'go'))?.payload)).toEqual([3]);
    });

    test('a byte view over a larger buffer is stored as just the bytes it covers', async () => {
      const buffer = new Uint8Array([1, 2, 3, 4, 5]);
      const storage = await open();
      await storage.commit([{ op: 'createRun', run: makeRun({ id: 'r1', input: buffer.subarray(1, 3) }) }]);
      buffer.fill(0);
      expect(plain((await storage.getRun('r1'))?.input)).toEqual([2, 3]);
    });
  });
}
