/**
 * Conformance tests for keyset pages of `listRuns` (`ListRunsOptions.after`, what `engine.list`'s
 * cursor decodes to): chained pages of every filter and combination of the listing fixture list each
 * match once and in order, whatever the page size; ties on `createdAt` split by id (a page may end
 * inside a tie); a key that is no stored run; `total` that stays the query's; runs created between
 * pages that neither shift nor repeat a later page; and more runs than the count cap, paged through
 * with every index an adapter may walk.
 *
 * The traps these catch in an adapter: a keyset compared as `createdAt <= key` (the key's run again)
 * or `createdAt < key` (its ties lost), ids compared in another order than the sort, a key that
 * narrows the count, and two upper bounds on `createdAt` where only one bounds the walk.
 */
import { describe, expect, test } from 'bun:test';
import type { Mutation, RunKey, RunQuery, Storage } from '../../storage/storage.ts';
import { LIST_TOTAL_CAP, RunStatus } from '../../storage/storage.ts';
import type { ConformanceContext } from './helpers.ts';
import { idsOf, makeRun } from './helpers.ts';
import { COMBINED_FILTERS, seedListingFixture, SINGLE_FILTERS } from './listing.ts';

/** Registers the keyset page tests; `open` gives each test a fresh storage. */
export function describeListingPages({ open }: ConformanceContext): void {
  const seeded = async (): Promise<Storage> => seedListingFixture(await open());

  describe('keyset pages (after)', () => {
    /** Every page of `query`, each starting after the last run of the one before, until a page comes back short. */
    async function pages(storage: Storage, query: RunQuery, limit: number): Promise<string[][]> {
      const all: string[][] = [];
      let after: RunKey | undefined;
      for (;;) {
        const page = await storage.listRuns(query, after === undefined ? { limit } : { limit, after });
        all.push(idsOf(page));
        const last = page.runs.at(-1);
        if (page.runs.length < limit || last === undefined) return all;
        after = { createdAt: last.createdAt, id: last.id };
      }
    }

    for (const [title, query, expected] of [...SINGLE_FILTERS, ...COMBINED_FILTERS]) {
      test(`pages of ${title} list every match once, in order, whatever the page size`, async () => {
        const storage = await seeded();
        for (const limit of [1, 2, 3]) expect((await pages(storage, query, limit)).flat()).toEqual(expected);
      });
    }

    test('ties on createdAt are split by id descending, so a page may end inside a tie', async () => {
      const storage = await seeded();
      // r2, r10 and R9 share createdAt 20 with r3; binary order puts 'r3' > 'r2' > 'r10' > 'R9'.
      const page = await storage.listRuns({}, { limit: 2, after: { createdAt: 20, id: 'r2' } });
      expect(idsOf(page)).toEqual(['r10', 'R9']);
      expect(idsOf(await storage.listRuns({}, { limit: 10, after: { createdAt: 20, id: 'R9' } }))).toEqual([
        'r1',
        'r5',
      ]);
    });

    test('the key need not be a stored run, and a key past the oldest match gives an empty page', async () => {
      const storage = await seeded();
      expect(idsOf(await storage.listRuns({}, { limit: 10, after: { createdAt: 25, id: '' } }))).toEqual([
        'r3',
        'r2',
        'r10',
        'R9',
        'r1',
        'r5',
      ]);
      expect(idsOf(await storage.listRuns({}, { limit: 10, after: { createdAt: 20, id: 'r25' } }))).toEqual([
        'r2',
        'r10',
        'R9',
        'r1',
        'r5',
      ]);
      // A key past createdBefore, and one before it: each bound still holds.
      const early = { createdBefore: 20 };
      expect(idsOf(await storage.listRuns(early, { limit: 10, after: { createdAt: 25, id: '' } }))).toEqual([
        'r1',
        'r5',
      ]);
      expect(idsOf(await storage.listRuns(early, { limit: 10, after: { createdAt: 10, id: 'r1' } }))).toEqual(['r5']);
      const past = await storage.listRuns({ types: ['ship'] }, { limit: 10, after: { createdAt: 5, id: 'r5' } });
      expect(past).toEqual({ runs: [], total: 2, totalIsExact: true });
    });

    test('total counts the query, not what is left after the key', async () => {
      const storage = await seeded();
      const after = { createdAt: 20, id: 'r10' };
      expect(await storage.listRuns({}, { limit: 1, after })).toMatchObject({ total: 7, totalIsExact: true });
      const gold = await storage.listRuns({ attributes: { tier: 'gold' } }, { limit: 1, after });
      expect(gold).toMatchObject({ total: 2, totalIsExact: true });
      expect(idsOf(gold)).toEqual(['r1']);
    });

    test('an offset skips matches after the key', async () => {
      const storage = await seeded();
      const page = await storage.listRuns({}, { limit: 2, offset: 1, after: { createdAt: 20, id: 'r3' } });
      expect(idsOf(page)).toEqual(['r10', 'R9']);
    });

    test('runs created between pages, newer than the key, neither shift nor repeat a later page', async () => {
      const storage = await seeded();
      const first = await storage.listRuns({}, { limit: 3 });
      expect(idsOf(first)).toEqual(['r4', 'r3', 'r2']);
      await storage.commit([
        { op: 'createRun', run: makeRun({ id: 'n1', createdAt: 40 }) },
        // Same createdAt as the key, id above it: it sorts before the key, on a page already read.
        { op: 'createRun', run: makeRun({ id: 'r3x', createdAt: 20 }) },
      ]);
      const last = first.runs.at(-1)!;
      const rest = await storage.listRuns({}, { limit: 10, after: { createdAt: last.createdAt, id: last.id } });
      expect(idsOf(rest)).toEqual(['r10', 'R9', 'r1', 'r5']);
      expect(rest.total).toBe(9);
    });

    test('pages through more runs than the count cap, with every index an adapter may walk', async () => {
      const storage = await open();
      const runs = Array.from({ length: LIST_TOTAL_CAP + 205 }, (_, i) =>
        makeRun({
          // Every third run shares its createdAt with the one before: ties across page boundaries.
          id: `k${String(i).padStart(5, '0')}`,
          type: i % 4 === 0 ? 'rare' : 'common',
          createdAt: i - (i % 3 === 2 ? 1 : 0),
          updatedAt: i,
          status: i % 2 === 0 ? RunStatus.suspended : RunStatus.completed,
          failureCategory: null,
          deadline: i % 5 === 0 ? i + 1_000 : null,
        }),
      );
      await storage.commit(
        runs.flatMap((run, i): Mutation[] => [
          { op: 'createRun', run },
          { op: 'setAttributes', runId: run.id, attributes: { mod: i % 7 } },
        ]),
      );
      const newestFirst = [...runs].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
      const queries: RunQuery[] = [
        {},
        { statuses: [RunStatus.suspended] },
        { types: ['rare'] },
        { statuses: [RunStatus.suspended], types: ['rare'] },
        { statuses: [RunStatus.suspended, RunStatus.completed], types: ['rare', 'common'] },
        { idPrefix: 'k00' },
        { createdAfter: 100, createdBefore: 1_100 },
        { updatedAfter: 50 },
        { updatedBefore: 1_000 },
        { deadlineAfter: 0 },
        { attributes: { mod: 3 } },
        { attributes: { mod: 3 }, statuses: [RunStatus.completed] },
      ];
      for (const query of queries) {
        const expected = newestFirst
          .filter((run) => {
            const i = Number(run.id.slice(1));
            return (
              (query.statuses === undefined || query.statuses.includes(run.status)) &&
              (query.types === undefined || query.types.includes(run.type)) &&
              (query.idPrefix === undefined || run.id.startsWith(query.idPrefix)) &&
              (query.createdAfter === undefined || run.createdAt > query.createdAfter) &&
              (query.createdBefore === undefined || run.createdAt < query.createdBefore) &&
              (query.updatedAfter === undefined || run.updatedAt > query.updatedAfter) &&
              (query.updatedBefore === undefined || run.updatedAt < query.updatedBefore) &&
              (query.deadlineAfter === undefined || (run.deadline !== null && run.deadline > query.deadlineAfter)) &&
              (query.attributes === undefined || i % 7 === query.attributes['mod'])
            );
          })
          .map((run) => run.id);
        const listed = await pages(storage, query, 100);
        expect({ query, ids: listed.flat() }).toEqual({ query, ids: expected });
        expect(listed.every((page, n) => n === listed.length - 1 || page.length === 100)).toBe(true);
      }
    });
  });
}
