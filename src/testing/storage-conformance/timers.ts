/**
 * Conformance tests for timers: `putTimer` upserts by `(runId, key)`, `deleteTimer` and
 * `deleteRunTimers` remove exactly what they name and ignore what is missing, and `listTimers`
 * orders by fireAt, then runId, then key, honouring `dueBy` (inclusive) and `limit`.
 */
import { describe, expect, test } from 'bun:test';
import type { Storage, TimerRecord } from '../../storage/storage.ts';
import type { ConformanceContext } from './helpers.ts';

/** Registers the `timers` conformance tests; `open` gives each test a fresh storage. */
export function describeTimers({ open }: ConformanceContext): void {
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
}
