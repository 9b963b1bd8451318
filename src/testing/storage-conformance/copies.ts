/**
 * Conformance tests for isolation between callers and storage: changing what was passed to
 * `commit`, or a record or attribute object a read returned, never changes what is stored, and a
 * byte view over a larger buffer is stored as just the bytes it covers (for every byte field). The trap is an in-memory adapter that keeps
 * or hands out references instead of copies.
 */
import { describe, expect, test } from 'bun:test';
import type {
  AttributeValue,
  InboxMessage,
  Mutation,
  RunRecord,
  Storage,
  TimerRecord,
  UpdateRecord,
} from '../../storage/storage.ts';
import { RunStatus, UpdateStatus } from '../../storage/storage.ts';
import type { ConformanceContext } from './helpers.ts';
import { makeChunk, makeEntry, makeEvent, makeFrame, makeRun, makeUpdate, plain, signal } from './helpers.ts';

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

    test('changing attributes, updates, events, frames or chunks after commit does not change what is stored', async () => {
      const storage = await open();
      const attributes: Record<string, AttributeValue | null> = { tier: 'gold' };
      const update = makeUpdate('u1', 'r1', {
        status: UpdateStatus.failed,
        result: new Uint8Array([1]),
        error: { name: 'E', message: 'm', details: { n: 1 } },
      });
      const event = makeEvent(1, { data: new Uint8Array([2]) });
      const frame = makeFrame('r1', 1, { data: new Uint8Array([3]) });
      const chunk = makeChunk('r1', 1, 4);
      await storage.commit([
        { op: 'setAttributes', runId: 'r1', attributes },
        { op: 'putUpdate', update },
        { op: 'appendEvent', event },
        { op: 'appendWatch', frame },
        { op: 'appendChunk', chunk },
      ]);
      attributes.tier = 'lead';
      attributes.extra = 1;
      update.status = UpdateStatus.pending;
      (update.result as Uint8Array)[0] = 99;
      (update.error?.details as { n: number }).n = 99;
      (event.data as Uint8Array)[0] = 99;
      event.seq = 99;
      (frame.data as Uint8Array)[0] = 99;
      frame.status = RunStatus.failed;
      chunk.data[0] = 99;
      chunk.seq = 99;
      await expectStoredLogs(storage);
    });

    test('changing returned attributes, updates, events, frames or chunks does not change what is stored', async () => {
      const storage = await open();
      await storage.commit([
        { op: 'setAttributes', runId: 'r1', attributes: { tier: 'gold' } },
        {
          op: 'putUpdate',
          update: makeUpdate('u1', 'r1', {
            status: UpdateStatus.failed,
            result: new Uint8Array([1]),
            error: { name: 'E', message: 'm', details: { n: 1 } },
          }),
        },
        { op: 'appendEvent', event: makeEvent(1, { data: new Uint8Array([2]) }) },
        { op: 'appendWatch', frame: makeFrame('r1', 1, { data: new Uint8Array([3]) }) },
        { op: 'appendChunk', chunk: makeChunk('r1', 1, 4) },
      ]);
      const attributes = await storage.getAttributes('r1');
      attributes.tier = 'lead';
      attributes.extra = 1;
      const update = (await storage.getUpdate('u1')) as UpdateRecord;
      update.status = UpdateStatus.pending;
      (update.result as Uint8Array)[0] = 99;
      (update.error?.details as { n: number }).n = 99;
      ((await storage.readEvents(0, 1))[0]?.data as Uint8Array)[0] = 99;
      ((await storage.readWatch('r1', 0, 1))[0]?.data as Uint8Array)[0] = 99;
      ((await storage.readChunks('r1', 0, 1))[0]?.data as Uint8Array)[0] = 99;
      await expectStoredLogs(storage);
    });

    test('a listed run is a copy', async () => {
      const storage = await open();
      await storage.commit([{ op: 'createRun', run: makeRun({ id: 'r1' }) }]);
      const listed = (await storage.listRuns({}, { limit: 1 })).runs[0];
      expect(listed).toBeDefined();
      if (listed) listed.status = RunStatus.failed;
      expect((await storage.listRuns({}, { limit: 1 })).runs[0]?.status).toBe(RunStatus.pending);
      expect((await storage.getRun('r1'))?.status).toBe(RunStatus.pending);
    });

    test('a byte view over a larger buffer is stored as just the bytes it covers', async () => {
      const buffer = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      const storage = await open();
      await storage.commit([
        { op: 'createRun', run: makeRun({ id: 'r1', input: buffer.subarray(1, 3) }) },
        { op: 'putUpdate', update: makeUpdate('u1', 'r1', { result: buffer.subarray(3, 5) }) },
        { op: 'appendEvent', event: makeEvent(1, { data: buffer.subarray(5, 7) }) },
        { op: 'appendWatch', frame: makeFrame('r1', 1, { data: buffer.subarray(7, 9) }) },
        { op: 'appendChunk', chunk: { runId: 'r1', seq: 1, data: buffer.subarray(9, 11), at: 1 } },
      ]);
      buffer.fill(0);
      expect(plain((await storage.getRun('r1'))?.input)).toEqual([2, 3]);
      expect(plain((await storage.getUpdate('u1'))?.result)).toEqual([4, 5]);
      expect(plain((await storage.readEvents(0, 1))[0]?.data)).toEqual([6, 7]);
      expect(plain((await storage.readWatch('r1', 0, 1))[0]?.data)).toEqual([8, 9]);
      expect(plain((await storage.readChunks('r1', 0, 1))[0]?.data)).toEqual([10, 11]);
    });
  });
}

/** What the two attribute/update/log copy tests above stored, checked through every read. */
async function expectStoredLogs(storage: Storage): Promise<void> {
  expect(await storage.getAttributes('r1')).toEqual({ tier: 'gold' });
  const update = await storage.getUpdate('u1');
  expect(update).toMatchObject({ status: UpdateStatus.failed, error: { details: { n: 1 } } });
  expect(plain(update?.result)).toEqual([1]);
  expect(await storage.listPendingUpdates()).toEqual([]);
  expect(plain((await storage.readEvents(0, 10)).map((e) => [e.seq, e.data]))).toEqual([[1, [2]]]);
  expect(plain((await storage.readWatch('r1', 0, 10)).map((f) => [f.status, f.data]))).toEqual([
    [RunStatus.running, [3]],
  ]);
  expect(plain((await storage.readChunks('r1', 0, 10)).map((c) => [c.seq, c.data]))).toEqual([[1, [4]]]);
}
