/**
 * The storage conformance suite: one set of tests every adapter must pass, so an adapter's own test
 * file is a few lines and "done" means the same thing for memory, SQLite and Postgres.
 *
 * Traps it avoids:
 * - Adapter-specific byte types. Postgres clients hand back `Buffer`s, others plain `Uint8Array`s;
 *   comparisons go through `plain()` so they check bytes, not classes.
 * - Silent gaps. The mutation and method tables are typed against the contract, so a new mutation
 *   or a new `Storage` method does not compile here until the suite covers it.
 * - Leaked handles. Every storage a test opens is closed after it, even when the test fails.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { WorkflowAlreadyExistsError } from '../core/errors.ts';
import type { InboxMessage, JournalEntry, Mutation, RunRecord, Storage, TimerRecord } from '../storage/storage.ts';
import { RunStatus, StorageConflictError } from '../storage/storage.ts';

export interface StorageConformanceOptions {
  /** Shown in test titles, e.g. 'SQLiteStorage'. */
  name: string;
  /** Returns a fresh, empty storage; called once per test. */
  create: () => Storage | Promise<Storage>;
}

/**
 * Registers the conformance tests (with `bun:test`) for one storage adapter.
 *
 * @example
 * // sqlite-storage.test.ts
 * runStorageConformance({ name: 'SQLiteStorage', create: () => SQLiteStorage.open(':memory:') });
 */
export function runStorageConformance(options: StorageConformanceOptions): void {
  describe(`${options.name} conforms to the Storage contract`, () => {
    const opened = new Set<Storage>();
    async function open(): Promise<Storage> {
      const storage = await options.create();
      opened.add(storage);
      return storage;
    }
    afterEach(async () => {
      const toClose = [...opened];
      opened.clear();
      await Promise.all(toClose.map((storage) => storage.close()));
    });

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

      test('a deleted run id can be created again with a clean journal', async () => {
        const storage = await open();
        await storage.commit(seedRun('a'));
        await storage.commit([{ op: 'deleteRun', id: 'a' }]);
        await storage.commit([
          { op: 'createRun', run: makeRun({ id: 'a' }) },
          { op: 'appendJournal', entry: makeEntry('a', 1) },
        ]);
        expect((await storage.getJournal('a')).map((e) => e.seq)).toEqual([1]);
        expect(await storage.listRunTimers('a')).toEqual([]);
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

    describe('timers', () => {
      test('putTimer inserts a timer and replaces the one with the same (runId, key)', async () => {
        const storage = await open();
        await storage.commit([{ op: 'putTimer', timer: { runId: 'r1', key: 'step:1', fireAt: 100 } }]);
        expect(await storage.listRunTimers('r1')).toEqual([{ runId: 'r1', key: 'step:1', fireAt: 100 }]);
        await storage.commit([{ op: 'putTimer', timer: { runId: 'r1', key: 'step:1', fireAt: 50 } }]);
        expect(await storage.listTimers()).toEqual([{ runId: 'r1', key: 'step:1', fireAt: 50 }]);
      });

      test('deleteTimer removes one timer and ignores a missing one', async () => {
        const storage = await open();
        await storage.commit([
          { op: 'putTimer', timer: { runId: 'r1', key: 'a', fireAt: 1 } },
          { op: 'putTimer', timer: { runId: 'r1', key: 'b', fireAt: 2 } },
        ]);
        await storage.commit([
          { op: 'deleteTimer', runId: 'r1', key: 'a' },
          { op: 'deleteTimer', runId: 'r1', key: 'nope' },
          { op: 'deleteTimer', runId: 'nope', key: 'b' },
        ]);
        expect(await storage.listTimers()).toEqual([{ runId: 'r1', key: 'b', fireAt: 2 }]);
      });

      test('deleteRunTimers removes every timer of that run and no other', async () => {
        const storage = await open();
        await storage.commit([
          { op: 'putTimer', timer: { runId: 'r1', key: 'a', fireAt: 1 } },
          { op: 'putTimer', timer: { runId: 'r1', key: 'b', fireAt: 2 } },
          { op: 'putTimer', timer: { runId: 'r2', key: 'a', fireAt: 3 } },
        ]);
        await storage.commit([
          { op: 'deleteRunTimers', runId: 'r1' },
          { op: 'deleteRunTimers', runId: 'nope' },
        ]);
        expect(await storage.listTimers()).toEqual([{ runId: 'r2', key: 'a', fireAt: 3 }]);
      });

      describe('listTimers', () => {
        const timers: TimerRecord[] = [
          { runId: 'r2', key: 'k1', fireAt: 100 },
          { runId: 'r0', key: 'k9', fireAt: 300 },
          { runId: 'r1', key: 'k2', fireAt: 100 },
          { runId: 'r1', key: 'k0', fireAt: 50 },
          { runId: 'r1', key: 'k1', fireAt: 100 },
        ];
        const sorted = ['r1/k0', 'r1/k1', 'r1/k2', 'r2/k1', 'r0/k9'];
        async function seeded(): Promise<Storage> {
          const storage = await open();
          await storage.commit(timers.slice(0, 2).map((timer) => ({ op: 'putTimer', timer })));
          await storage.commit(timers.slice(2).map((timer) => ({ op: 'putTimer', timer })));
          return storage;
        }
        const keys = (list: TimerRecord[]): string[] => list.map((t) => `${t.runId}/${t.key}`);

        test('listTimers orders by fireAt, then runId, then key', async () => {
          const storage = await seeded();
          expect(keys(await storage.listTimers())).toEqual(sorted);
        });

        test('listTimers with dueBy returns only the timers due by then, inclusive', async () => {
          const storage = await seeded();
          expect(keys(await storage.listTimers({ dueBy: 100 }))).toEqual(sorted.slice(0, 4));
          expect(keys(await storage.listTimers({ dueBy: 49 }))).toEqual([]);
          expect(keys(await storage.listTimers({ dueBy: 1_000 }))).toEqual(sorted);
        });

        test('listTimers with a limit returns the earliest timers', async () => {
          const storage = await seeded();
          expect(keys(await storage.listTimers({ limit: 2 }))).toEqual(sorted.slice(0, 2));
          expect(keys(await storage.listTimers({ dueBy: 100, limit: 3 }))).toEqual(sorted.slice(0, 3));
          expect(keys(await storage.listTimers({ limit: 50 }))).toEqual(sorted);
        });

        test('listRunTimers returns exactly the timers of that run', async () => {
          const storage = await seeded();
          const mine = await storage.listRunTimers('r1');
          expect(keys(mine).sort()).toEqual(['r1/k0', 'r1/k1', 'r1/k2']);
          expect(await storage.listRunTimers('nope')).toEqual([]);
        });
      });
    });

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

    describe('commit', () => {
      test('an empty commit resolves', async () => {
        const storage = await open();
        await storage.commit([]);
        expect(await storage.listTimers()).toEqual([]);
      });

      test('mutations in one commit apply in order, each seeing the ones before it', async () => {
        const storage = await open();
        await storage.commit([
          { op: 'createRun', run: makeRun({ id: 'r1', type: 'first' }) },
          { op: 'updateRun', id: 'r1', patch: { status: RunStatus.running } },
          { op: 'appendJournal', entry: makeEntry('r1', 1) },
          { op: 'deleteRun', id: 'r1' },
          { op: 'createRun', run: makeRun({ id: 'r1', type: 'second' }) },
          { op: 'putTimer', timer: { runId: 'r1', key: 'deadline', fireAt: 5 } },
          { op: 'deleteTimer', runId: 'r1', key: 'deadline' },
        ]);
        expect(await storage.getRun('r1')).toMatchObject({ type: 'second', status: RunStatus.pending });
        expect(await storage.getJournal('r1')).toEqual([]);
        expect(await storage.listTimers()).toEqual([]);
      });

      describe('a commit that fails undoes every mutation before the failing one', () => {
        /** One case per mutation kind: the type makes a new kind fail to compile until it has a case. */
        const cases: Record<Mutation['op'], (seededMessageId: number) => Mutation> = {
          createRun: () => ({ op: 'createRun', run: makeRun({ id: 'c', idempotencyKey: 'key-c' }) }),
          updateRun: () => ({
            op: 'updateRun',
            id: 'a',
            patch: { status: RunStatus.completed, result: new Uint8Array([1]) },
          }),
          deleteRun: () => ({ op: 'deleteRun', id: 'a' }),
          appendJournal: () => ({ op: 'appendJournal', entry: makeEntry('a', 3) }),
          putTimer: () => ({ op: 'putTimer', timer: { runId: 'a', key: 'step:1', fireAt: 1 } }),
          deleteTimer: () => ({ op: 'deleteTimer', runId: 'a', key: 'step:1' }),
          deleteRunTimers: () => ({ op: 'deleteRunTimers', runId: 'a' }),
          enqueueSignal: () => signal('a', 'new', 7),
          consumeSignal: (id) => ({ op: 'consumeSignal', id }),
        };
        for (const [op, mutation] of Object.entries(cases)) {
          test(`a failed commit leaves no trace of its ${op}`, async () => {
            const storage = await open();
            await storage.commit([...seedRun('a'), ...seedRun('b')]);
            const messageId = (await storage.peekSignal('a', 'go'))?.id ?? -1;
            const before = await snapshot(storage);
            const failing: Mutation = { op: 'updateRun', id: 'missing', patch: { updatedAt: 1 } };
            const error = await rejectionOf(storage.commit([mutation(messageId), mutation(messageId), failing]));
            expect(error).toBeInstanceOf(Error);
            expect(await snapshot(storage)).toEqual(before);
          });
        }
      });

      test('200 commits started at once all land', async () => {
        const storage = await open();
        const ids = Array.from({ length: 200 }, (_, i) => `run-${String(i).padStart(3, '0')}`);
        await Promise.all(
          ids.map((id, i) =>
            storage.commit([
              { op: 'createRun', run: makeRun({ id, createdAt: i }) },
              { op: 'appendJournal', entry: makeEntry(id, 1, { value: new Uint8Array([i % 256]) }) },
            ]),
          ),
        );
        expect((await storage.listRunsByStatus([RunStatus.pending])).map((r) => r.id)).toEqual(ids);
        const journals = await Promise.all(ids.map((id) => storage.getJournal(id)));
        expect(journals.map((j) => plain(j.map((e) => e.value)))).toEqual(ids.map((_, i) => [[i % 256]]));
      });

      test('of concurrent creates of the same id exactly one succeeds', async () => {
        const storage = await open();
        const outcomes = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) =>
            storage.commit([{ op: 'createRun', run: makeRun({ id: 'r1', type: `t${i}` }) }]),
          ),
        );
        const winners = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
        expect(winners).toHaveLength(1);
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'workflow_already_exists' });
        }
        expect((await storage.getRun('r1'))?.type).toBe(`t${winners[0]}`);
      });

      test('of concurrent consumes of the same message exactly one succeeds', async () => {
        const storage = await open();
        await storage.commit([signal('r1', 'go', 1)]);
        const id = (await storage.peekSignal('r1', 'go'))?.id ?? -1;
        const outcomes = await Promise.allSettled(
          Array.from({ length: 10 }, () => storage.commit([{ op: 'consumeSignal', id }])),
        );
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ conflict: 'signal_missing' });
        }
      });
    });

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

    describe('close', () => {
      test('after close every method rejects with storage_closed', async () => {
        const storage = await open();
        await storage.close();
        /** Typed against the contract: a new `Storage` method does not compile here until it is listed. */
        const calls: Record<Exclude<keyof Storage, 'close' | typeof Symbol.asyncDispose>, () => Promise<unknown>> = {
          commit: () => storage.commit([{ op: 'createRun', run: makeRun({ id: 'r1' }) }]),
          getRun: () => storage.getRun('r1'),
          findRunByIdempotencyKey: () => storage.findRunByIdempotencyKey('k'),
          listRunsByStatus: () => storage.listRunsByStatus([RunStatus.pending]),
          getJournal: () => storage.getJournal('r1'),
          listTimers: () => storage.listTimers(),
          listRunTimers: () => storage.listRunTimers('r1'),
          peekSignal: () => storage.peekSignal('r1', 'go'),
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
  });
}

function makeRun(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id: 'run',
    type: 'order',
    version: null,
    status: RunStatus.pending,
    input: new Uint8Array([1, 2, 3]),
    result: null,
    error: null,
    failureCategory: null,
    idempotencyKey: null,
    createdAt: 1_000,
    updatedAt: 1_000,
    deadline: null,
    ...overrides,
  };
}

function makeEntry(runId: string, seq: number, overrides: Partial<JournalEntry> = {}): JournalEntry {
  return {
    runId,
    seq,
    kind: 'activity',
    name: 'step',
    ok: true,
    value: null,
    error: null,
    createdAt: 1_000,
    ...overrides,
  };
}

function signal(runId: string, name: string, byte: number): Mutation {
  return { op: 'enqueueSignal', message: { runId, name, payload: new Uint8Array([byte]), createdAt: 1_000 } };
}

/** A run with two journal entries, two timers and one inbox message, keyed `key-<id>`. */
function seedRun(id: string): Mutation[] {
  return [
    { op: 'createRun', run: makeRun({ id, status: RunStatus.running, idempotencyKey: `key-${id}` }) },
    { op: 'appendJournal', entry: makeEntry(id, 1, { value: new Uint8Array([1]) }) },
    { op: 'appendJournal', entry: makeEntry(id, 2) },
    { op: 'putTimer', timer: { runId: id, key: 'step:1', fireAt: 100 } },
    { op: 'putTimer', timer: { runId: id, key: 'deadline', fireAt: 200 } },
    signal(id, 'go', 1),
  ];
}

/** Everything observable about the runs `seedRun('a')`/`seedRun('b')` and the cases above touch. */
async function snapshot(storage: Storage): Promise<unknown> {
  const runIds = ['a', 'b', 'c'];
  return plain({
    runs: await Promise.all(runIds.map((id) => storage.getRun(id))),
    byKey: await Promise.all(runIds.map((id) => storage.findRunByIdempotencyKey(`key-${id}`))),
    byStatus: await storage.listRunsByStatus(Object.values(RunStatus)),
    journals: await Promise.all(runIds.map((id) => storage.getJournal(id))),
    timers: await storage.listTimers(),
    runTimers: await Promise.all(runIds.map((id) => storage.listRunTimers(id))),
    inbox: await Promise.all(runIds.flatMap((id) => [storage.peekSignal(id, 'go'), storage.peekSignal(id, 'new')])),
  });
}

/** Deep copy with byte arrays as number arrays, so `Buffer` and `Uint8Array` compare equal. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return Array.from(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plain(item)]));
  }
  return value;
}

/** The error a promise rejects with; fails the test if it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('Expected the promise to reject, but it resolved');
}
