/**
 * Conformance tests for run records: a run reads back with every field intact (bytes, nulls, nested
 * error details, parent), ids and idempotency keys are unique and a conflict rolls back the whole
 * commit, `updateRun` changes only what it patches, deleting a run takes its journal, timers, inbox,
 * attributes, updates, watch frames and stream chunks with it but leaves fleet events, and
 * `listRunsByStatus` orders oldest first, then by id.
 */
import { describe, expect, test } from 'bun:test';
import { WorkflowAlreadyExistsError } from '../../core/errors.ts';
import { RunStatus, StorageConflictError } from '../../storage/storage.ts';
import type { ConformanceContext } from './helpers.ts';
import { makeEntry, makeEvent, makeFrame, makeRun, makeUpdate, plain, rejectionOf, seedRun } from './helpers.ts';

/** Registers the `runs` conformance tests; `open` gives each test a fresh storage. */
export function describeRuns({ open }: ConformanceContext): void {
  describe('runs', () => {
    test('a created run reads back with every field intact', async () => {
      const storage = await open();
      const run = makeRun({
        id: 'r1',
        version: 'v2',
        status: RunStatus.failed,
        input: new Uint8Array([0, 1, 2, 255]),
        result: new Uint8Array([9, 8]),
        error: {
          name: 'ApplicationError',
          message: 'boom',
          code: 'card_declined',
          retryable: false,
          details: { nested: { n: 1, list: [1, 'a', null] } },
        },
        failureCategory: 'activity',
        idempotencyKey: 'order-42',
        createdAt: 1_000,
        updatedAt: 2_000,
        deadline: 60_000,
        parentId: 'parent-1',
      });
      await storage.commit([{ op: 'createRun', run }]);
      const stored = await storage.getRun('r1');
      expect(stored?.input).toBeInstanceOf(Uint8Array);
      expect(stored?.result).toBeInstanceOf(Uint8Array);
      expect(plain(stored)).toEqual(plain(run));
    });

    test('a run with null optional fields reads back with nulls', async () => {
      const storage = await open();
      const run = makeRun({ id: 'r1', input: new Uint8Array() });
      await storage.commit([{ op: 'createRun', run }]);
      expect(plain(await storage.getRun('r1'))).toEqual(plain(run));
    });

    test('getRun returns undefined for an unknown id', async () => {
      const storage = await open();
      expect(await storage.getRun('nope')).toBeUndefined();
    });

    test('creating a run with a taken id fails with workflow_already_exists and applies nothing of the commit', async () => {
      const storage = await open();
      const existing = makeRun({ id: 'r1', type: 'first' });
      await storage.commit([{ op: 'createRun', run: existing }]);
      const error = await rejectionOf(
        storage.commit([
          { op: 'createRun', run: makeRun({ id: 'r2' }) },
          { op: 'appendJournal', entry: makeEntry('r1', 1) },
          { op: 'createRun', run: makeRun({ id: 'r1', type: 'second' }) },
        ]),
      );
      expect(error).toBeInstanceOf(WorkflowAlreadyExistsError);
      expect(error).toMatchObject({ code: 'workflow_already_exists' });
      expect(await storage.getRun('r2')).toBeUndefined();
      expect(await storage.getJournal('r1')).toEqual([]);
      expect(plain(await storage.getRun('r1'))).toEqual(plain(existing));
    });

    test('creating the same id twice in one commit fails and creates neither', async () => {
      const storage = await open();
      const error = await rejectionOf(
        storage.commit([
          { op: 'createRun', run: makeRun({ id: 'r1' }) },
          { op: 'createRun', run: makeRun({ id: 'r1' }) },
        ]),
      );
      expect(error).toMatchObject({ code: 'workflow_already_exists' });
      expect(await storage.getRun('r1')).toBeUndefined();
    });

    test('creating a run with a taken idempotency key fails with an idempotency_key conflict and applies nothing', async () => {
      const storage = await open();
      await storage.commit([{ op: 'createRun', run: makeRun({ id: 'r1', idempotencyKey: 'k' }) }]);
      const error = await rejectionOf(
        storage.commit([
          { op: 'putTimer', timer: { runId: 'r2', key: 'deadline', fireAt: 5 } },
          { op: 'createRun', run: makeRun({ id: 'r2', idempotencyKey: 'k' }) },
        ]),
      );
      expect(error).toBeInstanceOf(StorageConflictError);
      expect(error).toMatchObject({ code: 'storage_conflict', conflict: 'idempotency_key' });
      expect(await storage.getRun('r2')).toBeUndefined();
      expect(await storage.listTimers()).toEqual([]);
      expect((await storage.findRunByIdempotencyKey('k'))?.id).toBe('r1');
    });

    test('runs without an idempotency key never conflict with each other', async () => {
      const storage = await open();
      await storage.commit([
        { op: 'createRun', run: makeRun({ id: 'r1' }) },
        { op: 'createRun', run: makeRun({ id: 'r2' }) },
      ]);
      expect((await storage.getRun('r2'))?.idempotencyKey).toBeNull();
    });

    test('findRunByIdempotencyKey finds the run holding the key and nothing for an unknown key', async () => {
      const storage = await open();
      const run = makeRun({ id: 'r1', idempotencyKey: 'order-1', input: new Uint8Array([7]) });
      await storage.commit([
        { op: 'createRun', run },
        { op: 'createRun', run: makeRun({ id: 'r2', idempotencyKey: 'order-2' }) },
      ]);
      expect(plain(await storage.findRunByIdempotencyKey('order-1'))).toEqual(plain(run));
      expect(await storage.findRunByIdempotencyKey('order-3')).toBeUndefined();
    });

    test('deleting a run releases its idempotency key for a new run', async () => {
      const storage = await open();
      await storage.commit([{ op: 'createRun', run: makeRun({ id: 'r1', idempotencyKey: 'k' }) }]);
      await storage.commit([{ op: 'deleteRun', id: 'r1' }]);
      expect(await storage.findRunByIdempotencyKey('k')).toBeUndefined();
      await storage.commit([{ op: 'createRun', run: makeRun({ id: 'r2', idempotencyKey: 'k' }) }]);
      expect((await storage.findRunByIdempotencyKey('k'))?.id).toBe('r2');
    });

    test('updateRun changes only the patched fields', async () => {
      const storage = await open();
      const run = makeRun({ id: 'r1', idempotencyKey: 'k', input: new Uint8Array([1]), deadline: 99 });
      await storage.commit([{ op: 'createRun', run }]);
      const patch = {
        status: RunStatus.failed,
        error: { name: 'WeftError', message: 'no', code: 'x', details: { step: 3 } },
        failureCategory: 'workflow',
        updatedAt: 5_000,
      } as const;
      await storage.commit([{ op: 'updateRun', id: 'r1', patch }]);
      expect(plain(await storage.getRun('r1'))).toEqual(plain({ ...run, ...patch }));
      await storage.commit([{ op: 'updateRun', id: 'r1', patch: { result: new Uint8Array([4, 2]) } }]);
      expect(plain(await storage.getRun('r1'))).toEqual(plain({ ...run, ...patch, result: new Uint8Array([4, 2]) }));
    });

    test('updateRun can set result, error and failureCategory back to null', async () => {
      const storage = await open();
      await storage.commit([
        {
          op: 'createRun',
          run: makeRun({
            id: 'r1',
            result: new Uint8Array([1]),
            error: { name: 'E', message: 'm' },
            failureCategory: 'timeout',
          }),
        },
      ]);
      await storage.commit([
        { op: 'updateRun', id: 'r1', patch: { result: null, error: null, failureCategory: null } },
      ]);
      expect(await storage.getRun('r1')).toMatchObject({ result: null, error: null, failureCategory: null });
    });

    test('updateRun of a missing run fails with a run_missing conflict and applies nothing', async () => {
      const storage = await open();
      const error = await rejectionOf(
        storage.commit([
          { op: 'createRun', run: makeRun({ id: 'r1' }) },
          { op: 'updateRun', id: 'nope', patch: { status: RunStatus.running } },
        ]),
      );
      expect(error).toBeInstanceOf(StorageConflictError);
      expect(error).toMatchObject({ code: 'storage_conflict', conflict: 'run_missing' });
      expect(await storage.getRun('r1')).toBeUndefined();
    });

    test('deleting a run removes its journal, timers and inbox and leaves other runs untouched', async () => {
      const storage = await open();
      await storage.commit([...seedRun('a'), ...seedRun('b')]);
      await storage.commit([{ op: 'deleteRun', id: 'a' }]);
      expect(await storage.getRun('a')).toBeUndefined();
      expect(await storage.getJournal('a')).toEqual([]);
      expect(await storage.listRunTimers('a')).toEqual([]);
      expect(await storage.peekSignal('a', 'go')).toBeUndefined();
      expect((await storage.listTimers()).map((t) => t.runId)).toEqual(['b', 'b']);
      expect((await storage.listRunsByStatus(Object.values(RunStatus))).map((r) => r.id)).toEqual(['b']);
      expect((await storage.getJournal('b')).map((e) => e.seq)).toEqual([1, 2]);
      expect(await storage.listRunTimers('b')).toHaveLength(2);
      expect(await storage.peekSignal('b', 'go')).toBeDefined();
    });

    test('deleting a run removes its attributes, updates, watch frames and chunks but keeps fleet events', async () => {
      const storage = await open();
      await storage.commit([
        ...seedRun('a'),
        ...seedRun('b'),
        { op: 'appendEvent', event: makeEvent(1, { runId: 'a' }) },
        { op: 'appendEvent', event: makeEvent(2, { runId: 'b' }) },
      ]);
      await storage.commit([{ op: 'deleteRun', id: 'a' }]);
      expect(await storage.getAttributes('a')).toEqual({});
      expect(await storage.getUpdate('a-u1')).toBeUndefined();
      expect(await storage.findUpdateByIdempotencyKey('a', 'upd-key')).toBeUndefined();
      expect(await storage.readWatch('a', 0, 10)).toEqual([]);
      expect(await storage.readChunks('a', 0, 10)).toEqual([]);
      expect(await storage.runTails('a')).toEqual({ watch: 0, chunk: 0 });
      expect((await storage.listPendingUpdates()).map((u) => u.id)).toEqual(['b-u1']);
      expect((await storage.readEvents(0, 10)).map((e) => e.runId)).toEqual(['a', 'b']);
      expect(await storage.lastEventSeq()).toBe(2);
      expect(await storage.getAttributes('b')).toEqual({ tier: 'gold', n: 1 });
      expect((await storage.findUpdateByIdempotencyKey('b', 'upd-key'))?.id).toBe('b-u1');
      expect(await storage.runTails('b')).toEqual({ watch: 1, chunk: 1 });
      const gold = await storage.listRuns({ attributes: { tier: 'gold' } }, { limit: 10 });
      expect(gold.runs.map((r) => r.id)).toEqual(['b']);
    });

    test('deleting a run that was never created removes the rows kept under its id', async () => {
      const storage = await open();
      const seeded = seedRun('a').filter((mutation) => mutation.op !== 'createRun');
      await storage.commit(seeded);
      await storage.commit([{ op: 'deleteRun', id: 'a' }]);
      expect(await storage.getJournal('a')).toEqual([]);
      expect(await storage.listRunTimers('a')).toEqual([]);
      expect(await storage.peekSignal('a', 'go')).toBeUndefined();
      expect(await storage.getAttributes('a')).toEqual({});
      expect(await storage.getUpdate('a-u1')).toBeUndefined();
      expect(await storage.runTails('a')).toEqual({ watch: 0, chunk: 0 });
    });

    test('a deleted run id can be created again with a clean journal, attributes, updates and logs', async () => {
      const storage = await open();
      await storage.commit(seedRun('a'));
      await storage.commit([{ op: 'deleteRun', id: 'a' }]);
      await storage.commit([
        { op: 'createRun', run: makeRun({ id: 'a' }) },
        { op: 'appendJournal', entry: makeEntry('a', 1) },
        { op: 'putUpdate', update: makeUpdate('a-u2', 'a', { idempotencyKey: 'upd-key' }) },
        { op: 'appendWatch', frame: makeFrame('a', 1) },
      ]);
      expect((await storage.getJournal('a')).map((e) => e.seq)).toEqual([1]);
      expect(await storage.listRunTimers('a')).toEqual([]);
      expect(await storage.getAttributes('a')).toEqual({});
      expect((await storage.findUpdateByIdempotencyKey('a', 'upd-key'))?.id).toBe('a-u2');
      expect(await storage.runTails('a')).toEqual({ watch: 1, chunk: 0 });
    });

    test('deleting a missing run is not an error', async () => {
      const storage = await open();
      await storage.commit([{ op: 'deleteRun', id: 'nope' }]);
      expect(await storage.getRun('nope')).toBeUndefined();
    });

    test('listRunsByStatus returns runs in any of the statuses, oldest first and then by id', async () => {
      const storage = await open();
      await storage.commit([
        { op: 'createRun', run: makeRun({ id: 'late', status: RunStatus.pending, createdAt: 30 }) },
        { op: 'createRun', run: makeRun({ id: 'b', status: RunStatus.suspended, createdAt: 10 }) },
        { op: 'createRun', run: makeRun({ id: 'a', status: RunStatus.pending, createdAt: 10 }) },
        { op: 'createRun', run: makeRun({ id: 'mid', status: RunStatus.suspended, createdAt: 20 }) },
        { op: 'createRun', run: makeRun({ id: 'done', status: RunStatus.completed, createdAt: 1 }) },
      ]);
      const ids = async (statuses: RunStatus[]): Promise<string[]> =>
        (await storage.listRunsByStatus(statuses)).map((r) => r.id);
      expect(await ids([RunStatus.pending, RunStatus.suspended])).toEqual(['a', 'b', 'mid', 'late']);
      expect(await ids([RunStatus.completed])).toEqual(['done']);
      expect(await ids([RunStatus.running])).toEqual([]);
      expect(await ids([])).toEqual([]);
    });

    test('listRunsByStatus follows status changes and returns full records', async () => {
      const storage = await open();
      const run = makeRun({ id: 'r1', status: RunStatus.running, input: new Uint8Array([3]) });
      await storage.commit([{ op: 'createRun', run }]);
      await storage.commit([{ op: 'updateRun', id: 'r1', patch: { status: RunStatus.completed, updatedAt: 7 } }]);
      expect(await storage.listRunsByStatus([RunStatus.running])).toEqual([]);
      expect(plain(await storage.listRunsByStatus([RunStatus.completed]))).toEqual(
        plain([{ ...run, status: RunStatus.completed, updatedAt: 7 }]),
      );
    });
  });
}
