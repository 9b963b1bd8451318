/**
 * Conformance tests for `commit` as a whole: mutations apply in order, a failing commit leaves no
 * trace of any mutation kind before the failure (the case table is typed against `Mutation`, so a
 * new kind does not compile until it is covered, and the snapshot reads through every read method),
 * and concurrent commits all land, with exactly one winner when they race for the same run id,
 * inbox message or sequence number.
 */
import { describe, expect, test } from 'bun:test';
import type { Mutation, Storage } from '../../storage/storage.ts';
import { RunStatus, UpdateStatus } from '../../storage/storage.ts';
import type { ConformanceContext } from './helpers.ts';
import {
  makeChunk,
  makeEntry,
  makeEvent,
  makeFrame,
  makeRun,
  makeUpdate,
  plain,
  rejectionOf,
  seedRun,
  signal,
} from './helpers.ts';

/** Registers the `commit` conformance tests; `open` gives each test a fresh storage. */
export function describeCommit({ open }: ConformanceContext): void {
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
        setAttributes: () => ({
          op: 'setAttributes',
          runId: 'a',
          attributes: { tier: 'silver', n: null, extra: true },
        }),
        putUpdate: () => ({
          op: 'putUpdate',
          update: makeUpdate('a-u1', 'a', {
            idempotencyKey: 'other',
            status: UpdateStatus.completed,
            result: new Uint8Array([1]),
            completedAt: 5,
          }),
        }),
        appendEvent: () => ({ op: 'appendEvent', event: makeEvent(3, { runId: 'a' }) }),
        pruneEvents: () => ({ op: 'pruneEvents', throughSeq: 1 }),
        appendWatch: () => ({ op: 'appendWatch', frame: makeFrame('a', 2) }),
        appendChunk: () => ({ op: 'appendChunk', chunk: makeChunk('a', 2, 9) }),
      };
      for (const [op, mutation] of Object.entries(cases)) {
        test(`a failed commit leaves no trace of its ${op}`, async () => {
          const storage = await open();
          await storage.commit([
            ...seedRun('a'),
            ...seedRun('b'),
            { op: 'appendEvent', event: makeEvent(1, { runId: 'a' }) },
            { op: 'appendEvent', event: makeEvent(2) },
          ]);
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

    test('of concurrent appends of the same event, frame or chunk seq exactly one succeeds', async () => {
      const storage = await open();
      const race = async (mutation: (i: number) => Mutation): Promise<number> => {
        const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => storage.commit([mutation(i)])));
        return outcomes.filter((o) => o.status === 'fulfilled').length;
      };
      expect(await race((i) => ({ op: 'appendEvent', event: makeEvent(1, { type: `t${i}` }) }))).toBe(1);
      expect(await race((i) => ({ op: 'appendWatch', frame: makeFrame('r1', 1, { type: `t${i}` }) }))).toBe(1);
      expect(await race((i) => ({ op: 'appendChunk', chunk: makeChunk('r1', 1, i) }))).toBe(1);
      expect(await race((i) => ({ op: 'putUpdate', update: makeUpdate(`u${i}`, 'r1', { idempotencyKey: 'k' }) }))).toBe(
        1,
      );
      expect(await storage.readEvents(0, 10)).toHaveLength(1);
      expect(await storage.runTails('r1')).toEqual({ watch: 1, chunk: 1 });
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
}

/** Everything observable about the runs `seedRun('a')`/`seedRun('b')` and the rollback cases above touch. */
async function snapshot(storage: Storage): Promise<unknown> {
  const runIds = ['a', 'b', 'c'];
  const updateKeys = ['upd-key', 'other'];
  return plain({
    attributes: await Promise.all(runIds.map((id) => storage.getAttributes(id))),
    listing: await storage.listRuns({}, { limit: 100 }),
    byAttribute: await storage.listRuns({ attributes: { tier: 'gold' } }, { limit: 100 }),
    aggregate: await storage.aggregateRuns('attribute:tier', {}, 10),
    updates: await Promise.all(runIds.map((id) => storage.getUpdate(`${id}-u1`))),
    updatesByKey: await Promise.all(
      runIds.flatMap((id) => updateKeys.map((key) => storage.findUpdateByIdempotencyKey(id, key))),
    ),
    pendingUpdates: await storage.listPendingUpdates(),
    events: await storage.readEvents(0, 100),
    lastEventSeq: await storage.lastEventSeq(),
    watch: await Promise.all(runIds.map((id) => storage.readWatch(id, 0, 100))),
    chunks: await Promise.all(runIds.map((id) => storage.readChunks(id, 0, 100))),
    tails: await Promise.all(runIds.map((id) => storage.runTails(id))),
    runs: await Promise.all(runIds.map((id) => storage.getRun(id))),
    byKey: await Promise.all(runIds.map((id) => storage.findRunByIdempotencyKey(`key-${id}`))),
    byStatus: await storage.listRunsByStatus(Object.values(RunStatus)),
    journals: await Promise.all(runIds.map((id) => storage.getJournal(id))),
    timers: await storage.listTimers(),
    runTimers: await Promise.all(runIds.map((id) => storage.listRunTimers(id))),
    inbox: await Promise.all(runIds.flatMap((id) => [storage.peekSignal(id, 'go'), storage.peekSignal(id, 'new')])),
  });
}
