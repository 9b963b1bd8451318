/**
 * Conformance tests for `listRuns` and `aggregateRuns` over one fixture of seven runs: newest first
 * with ties on binary id order descending, each `RunQuery` field alone and combined (OR within a
 * list, exclusive ranges, deadline ranges skipping runs without one, attribute equality that keeps
 * `1`, `'1'` and `true` apart), paging with a `total` that ignores it, and counts by group in the
 * contract's order, truncated at `maxGroups`. Keyset pages (`after`) are in listing-pages.ts.
 *
 * The traps these catch in an adapter: locale or numeric id order ('R9' sorts before 'r10' in
 * binary order), a `LIKE` prefix that treats `_`, `%` or case loosely, inclusive bounds, `NULL`
 * deadlines slipping through, attribute values compared as text, and groups ordered as text.
 */
import { describe, expect, test } from 'bun:test';
import type { AttributeValue, Mutation, RunQuery, RunRecord, Storage } from '../../storage/storage.ts';
import { LIST_TOTAL_CAP, RunStatus } from '../../storage/storage.ts';
import type { ConformanceContext } from './helpers.ts';
import { idsOf, makeRun, plain } from './helpers.ts';

interface FixtureRun {
  run: RunRecord;
  attributes: Record<string, AttributeValue>;
}

/**
 * Seven runs; newest first they are r4, r3, r2, r10, R9, r1, r5 (r2, r3, r10 and R9 share
 * `createdAt` 20, so their order is binary id order, descending).
 */
const FIXTURE: FixtureRun[] = [
  {
    run: makeRun({ id: 'r1', createdAt: 10, updatedAt: 15, status: RunStatus.completed }),
    attributes: { tier: 'gold', n: 1, vip: true },
  },
  {
    run: makeRun({
      id: 'r2',
      createdAt: 20,
      updatedAt: 25,
      status: RunStatus.failed,
      failureCategory: 'activity',
      deadline: 100,
      version: 'v2',
      idempotencyKey: 'order-2',
      result: new Uint8Array([7]),
      error: { name: 'E', message: 'declined' },
    }),
    attributes: { tier: 'silver', n: '1' },
  },
  {
    run: makeRun({
      id: 'r3',
      type: 'refund',
      createdAt: 20,
      updatedAt: 30,
      status: RunStatus.running,
      deadline: 200,
      parentId: 'r1',
    }),
    attributes: { tier: 'gold', n: 2, vip: false },
  },
  {
    run: makeRun({ id: 'r10', createdAt: 20, updatedAt: 20, deadline: 50, parentId: 'r1' }),
    attributes: { tier: 'bronze' },
  },
  {
    run: makeRun({
      id: 'R9',
      type: 'ship',
      createdAt: 20,
      updatedAt: 40,
      status: RunStatus.failed,
      failureCategory: 'timeout',
      parentId: 'r2',
    }),
    attributes: { n: true },
  },
  {
    run: makeRun({
      id: 'r4',
      type: 'refund',
      createdAt: 30,
      updatedAt: 35,
      status: RunStatus.failed,
      failureCategory: 'activity',
      deadline: 300,
    }),
    attributes: { n: 10 },
  },
  {
    run: makeRun({ id: 'r5', type: 'ship', createdAt: 5, updatedAt: 5, status: RunStatus.suspended }),
    attributes: {},
  },
];
const NEWEST_FIRST = ['r4', 'r3', 'r2', 'r10', 'R9', 'r1', 'r5'];

/** Each `RunQuery` field alone, and the fixture's runs it lists, newest first. */
export const SINGLE_FILTERS: [string, RunQuery, string[]][] = [
  ['one status', { statuses: [RunStatus.failed] }, ['r4', 'r2', 'R9']],
  ['statuses, any of them', { statuses: [RunStatus.failed, RunStatus.pending] }, ['r4', 'r2', 'r10', 'R9']],
  ['an empty status list, matching nothing', { statuses: [] }, []],
  ['one type', { types: ['order'] }, ['r2', 'r10', 'r1']],
  ['types, any of them', { types: ['ship', 'refund'] }, ['r4', 'r3', 'R9', 'r5']],
  ['an unknown type', { types: ['nope'] }, []],
  ['an id prefix, case-sensitive', { idPrefix: 'r1' }, ['r10', 'r1']],
  ['an upper-case id prefix', { idPrefix: 'R' }, ['R9']],
  ['a whole id as prefix', { idPrefix: 'r10' }, ['r10']],
  ['an empty id prefix', { idPrefix: '' }, NEWEST_FIRST],
  ['one failure category', { failureCategories: ['activity'] }, ['r4', 'r2']],
  ['failure categories, any of them', { failureCategories: ['activity', 'timeout'] }, ['r4', 'r2', 'R9']],
  ['a failure category no run has', { failureCategories: ['cancelled'] }, []],
  ['a parent', { parentId: 'r1' }, ['r3', 'r10']],
  ['another parent', { parentId: 'r2' }, ['R9']],
  ['a parent without children', { parentId: 'r5' }, []],
  ['createdAfter, exclusive', { createdAfter: 10 }, ['r4', 'r3', 'r2', 'r10', 'R9']],
  ['createdBefore, exclusive', { createdBefore: 20 }, ['r1', 'r5']],
  ['updatedAfter, exclusive', { updatedAfter: 35 }, ['R9']],
  ['updatedBefore, exclusive', { updatedBefore: 20 }, ['r1', 'r5']],
  ['deadlineAfter, skipping runs without a deadline', { deadlineAfter: 0 }, ['r4', 'r3', 'r2', 'r10']],
  ['deadlineAfter, exclusive', { deadlineAfter: 100 }, ['r4', 'r3']],
  ['deadlineBefore, skipping runs without a deadline', { deadlineBefore: 1_000_000 }, ['r4', 'r3', 'r2', 'r10']],
  ['deadlineBefore, exclusive', { deadlineBefore: 100 }, ['r10']],
  ['a string attribute', { attributes: { tier: 'gold' } }, ['r3', 'r1']],
  ['the number 1, not the string or true', { attributes: { n: 1 } }, ['r1']],
  ["the string '1', not the number", { attributes: { n: '1' } }, ['r2']],
  ['true, not the number 1', { attributes: { n: true } }, ['R9']],
  ['the number 10, not the string', { attributes: { n: 10 } }, ['r4']],
  ["the string '10', which no run has", { attributes: { n: '10' } }, []],
  ['false', { attributes: { vip: false } }, ['r3']],
  ['an attribute no run has', { attributes: { missing: 'x' } }, []],
  ['an empty attribute set', { attributes: {} }, NEWEST_FIRST],
];

/** Fields combined (AND), and what they list. */
export const COMBINED_FILTERS: [string, RunQuery, string[]][] = [
  ['both bounds of createdAt', { createdAfter: 5, createdBefore: 30 }, ['r3', 'r2', 'r10', 'R9', 'r1']],
  ['both bounds of updatedAt', { updatedAfter: 15, updatedBefore: 35 }, ['r3', 'r2', 'r10']],
  ['both bounds of deadline', { deadlineAfter: 50, deadlineBefore: 300 }, ['r3', 'r2']],
  ['two attributes', { attributes: { tier: 'gold', vip: false } }, ['r3']],
  ['two attributes no run has together', { attributes: { tier: 'silver', vip: true } }, []],
  ['an attribute, and another of the wrong type', { attributes: { tier: 'silver', n: 1 } }, []],
  ['an attribute, and another of the right type', { attributes: { tier: 'silver', n: '1' } }, ['r2']],
  ['an attribute, and true where the run has 1', { attributes: { tier: 'gold', n: true } }, []],
  [
    'status, type and creation',
    { statuses: [RunStatus.failed], types: ['order', 'ship'], createdAfter: 10 },
    ['r2', 'R9'],
  ],
  [
    'status, type, creation and an attribute',
    { statuses: [RunStatus.failed], types: ['order', 'ship'], createdAfter: 10, attributes: { n: '1' } },
    ['r2'],
  ],
  ['statuses and a parent', { statuses: [RunStatus.failed, RunStatus.running], parentId: 'r1' }, ['r3']],
  ['type, deadline and attribute', { types: ['refund'], deadlineBefore: 250, attributes: { tier: 'gold' } }, ['r3']],
  ['failure category and id prefix', { failureCategories: ['activity', 'timeout'], idPrefix: 'r' }, ['r4', 'r2']],
  ['filters that exclude each other', { statuses: [RunStatus.completed], types: ['ship'] }, []],
];

/** Writes the fixture into `storage` over two commits, in an order unlike any the listing returns. */
export async function seedListingFixture(storage: Storage): Promise<Storage> {
  const mutations = (runs: FixtureRun[]): Mutation[] =>
    runs.flatMap(({ run, attributes }) => [
      { op: 'createRun', run },
      { op: 'setAttributes', runId: run.id, attributes },
    ]);
  await storage.commit(mutations(FIXTURE.slice(3)));
  await storage.commit(mutations(FIXTURE.slice(0, 3)));
  return storage;
}

/** Registers the `listRuns` and `aggregateRuns` conformance tests; `open` gives each test a fresh storage. */
export function describeListing({ open }: ConformanceContext): void {
  const seeded = async (): Promise<Storage> => seedListingFixture(await open());

  describe('listRuns', () => {
    test('an empty query lists every run newest first, ties by id descending in binary order', async () => {
      const storage = await seeded();
      const page = await storage.listRuns({}, { limit: 100 });
      expect(idsOf(page)).toEqual(NEWEST_FIRST);
      expect(page.total).toBe(7);
    });

    test('a listed run is a summary: every field of the run but input, result and error', async () => {
      const storage = await seeded();
      const page = await storage.listRuns({ idPrefix: 'r2' }, { limit: 10 });
      const { input: _input, result: _result, error: _error, ...summary } = FIXTURE[1]!.run;
      expect(page.runs).toHaveLength(1);
      expect(Object.keys(page.runs[0] ?? {}).sort()).toEqual(Object.keys(summary).sort());
      expect(plain(page.runs[0])).toEqual(plain(summary));
      const child = await storage.listRuns({ idPrefix: 'r3' }, { limit: 10 });
      expect(child.runs[0]).toMatchObject({ parentId: 'r1', type: 'refund', deadline: 200 });
    });

    test('an empty storage lists nothing', async () => {
      const storage = await open();
      expect(await storage.listRuns({}, { limit: 10 })).toEqual({ runs: [], total: 0, totalIsExact: true });
    });

    describe('each filter alone', () => {
      for (const [title, query, expected] of SINGLE_FILTERS) {
        test(`listRuns filters by ${title}`, async () => {
          const storage = await seeded();
          const page = await storage.listRuns(query, { limit: 100 });
          expect(idsOf(page)).toEqual(expected);
          expect(page.total).toBe(expected.length);
        });
      }
    });

    describe('filters combined', () => {
      for (const [title, query, expected] of COMBINED_FILTERS) {
        test(`listRuns narrows by ${title}`, async () => {
          const storage = await seeded();
          const page = await storage.listRuns(query, { limit: 100 });
          expect(idsOf(page)).toEqual(expected);
          expect(page.total).toBe(expected.length);
        });
      }
    });

    test('an id prefix means its characters literally, with no wildcards', async () => {
      const storage = await open();
      await storage.commit(
        ['a_1', 'ab1', 'a%x', 'A_1', 'xa_'].map((id): Mutation => ({ op: 'createRun', run: makeRun({ id }) })),
      );
      const ids = async (idPrefix: string): Promise<string[]> =>
        idsOf(await storage.listRuns({ idPrefix }, { limit: 10 }));
      expect(await ids('a_')).toEqual(['a_1']);
      expect(await ids('a%')).toEqual(['a%x']);
      expect(await ids('a')).toEqual(['ab1', 'a_1', 'a%x']);
      expect(await ids('A')).toEqual(['A_1']);
      expect(await ids('%')).toEqual([]);
    });

    test('limit and offset pick a window, and total counts every match', async () => {
      const storage = await seeded();
      const window = async (limit: number, offset?: number, query: RunQuery = {}): Promise<[string[], number]> => {
        const page = await storage.listRuns(query, offset === undefined ? { limit } : { limit, offset });
        return [idsOf(page), page.total];
      };
      expect(await window(2)).toEqual([['r4', 'r3'], 7]);
      expect(await window(2, 0)).toEqual([['r4', 'r3'], 7]);
      expect(await window(2, 2)).toEqual([['r2', 'r10'], 7]);
      expect(await window(5, 5)).toEqual([['r1', 'r5'], 7]);
      expect(await window(5, 7)).toEqual([[], 7]);
      expect(await window(5, 100)).toEqual([[], 7]);
      expect(await window(0)).toEqual([[], 7]);
      expect(await window(1, 1, { statuses: [RunStatus.failed] })).toEqual([['r2'], 3]);
      expect(await window(10, 1, { attributes: { tier: 'gold' } })).toEqual([['r1'], 2]);
    });

    test('listRuns follows status, attribute and deletion changes', async () => {
      const storage = await seeded();
      await storage.commit([
        { op: 'updateRun', id: 'R9', patch: { status: RunStatus.completed, updatedAt: 50 } },
        { op: 'setAttributes', runId: 'r5', attributes: { tier: 'gold' } },
        { op: 'setAttributes', runId: 'r1', attributes: { tier: null } },
      ]);
      const ids = async (query: RunQuery): Promise<string[]> => idsOf(await storage.listRuns(query, { limit: 100 }));
      expect(await ids({ statuses: [RunStatus.failed] })).toEqual(['r4', 'r2']);
      expect(await ids({ statuses: [RunStatus.completed] })).toEqual(['R9', 'r1']);
      expect(await ids({ updatedAfter: 45 })).toEqual(['R9']);
      expect(await ids({ attributes: { tier: 'gold' } })).toEqual(['r3', 'r5']);
      await storage.commit([{ op: 'deleteRun', id: 'r3' }]);
      expect(await ids({ attributes: { tier: 'gold' } })).toEqual(['r5']);
      expect(await ids({ parentId: 'r1' })).toEqual(['r10']);
      expect((await storage.listRuns({}, { limit: 0 })).total).toBe(6);
    });

    test('attributes of a run that does not exist never list a run', async () => {
      const storage = await seeded();
      await storage.commit([{ op: 'setAttributes', runId: 'ghost', attributes: { tier: 'gold' } }]);
      expect(idsOf(await storage.listRuns({ attributes: { tier: 'gold' } }, { limit: 10 }))).toEqual(['r3', 'r1']);
      expect(await storage.aggregateRuns('attribute:tier', { attributes: { tier: 'gold' } }, 10)).toEqual({
        total: 2,
        groups: [{ key: 'gold', count: 2 }],
        truncated: false,
      });
    });
  });

  describe('how exact total is', () => {
    /** `LIST_TOTAL_CAP + 5` runs of type 'many', every other one suspended, and one run of type 'few'. */
    async function many(): Promise<Storage> {
      const storage = await open();
      const runs = Array.from({ length: LIST_TOTAL_CAP + 5 }, (_, i) =>
        makeRun({
          id: `m${String(i).padStart(5, '0')}`,
          type: 'many',
          createdAt: i,
          status: i % 2 === 0 ? RunStatus.suspended : RunStatus.completed,
        }),
      );
      runs.push(makeRun({ id: 'f1', type: 'few', createdAt: 5, status: RunStatus.suspended }));
      await storage.commit(runs.map((run): Mutation => ({ op: 'createRun', run })));
      return storage;
    }

    test('filters on status and type alone count every match exactly, however many', async () => {
      const storage = await many();
      for (const [query, total] of [
        [{}, LIST_TOTAL_CAP + 6],
        [{ types: ['many'] }, LIST_TOTAL_CAP + 5],
        [{ statuses: [RunStatus.suspended], types: ['many', 'few'] }, Math.ceil((LIST_TOTAL_CAP + 5) / 2) + 1],
      ] as const) {
        expect(await storage.listRuns(query, { limit: 3 })).toMatchObject({ total, totalIsExact: true });
      }
    });

    test('other filters count exactly up to LIST_TOTAL_CAP matches, and past it say so with a lower bound', async () => {
      const storage = await many();
      const few = await storage.listRuns({ idPrefix: 'm0000' }, { limit: 3 });
      expect(few).toMatchObject({ total: 10, totalIsExact: true });
      const capped = await storage.listRuns({ idPrefix: 'm', createdAfter: -1 }, { limit: 3 });
      expect(capped).toMatchObject({ total: LIST_TOTAL_CAP, totalIsExact: false });
      expect(idsOf(capped)).toEqual(['m01004', 'm01003', 'm01002']);
      const deep = await storage.listRuns({ idPrefix: 'm' }, { limit: 3, offset: LIST_TOTAL_CAP });
      expect(deep).toMatchObject({ total: LIST_TOTAL_CAP + 3, totalIsExact: false });
      const past = await storage.listRuns({ idPrefix: 'm' }, { limit: 3, offset: LIST_TOTAL_CAP + 10 });
      expect(past).toMatchObject({ runs: [], total: LIST_TOTAL_CAP, totalIsExact: false });
    });

    test('aggregates by status or type stay exact, with or without a filter', async () => {
      const storage = await many();
      expect(await storage.aggregateRuns('type', {}, 10)).toEqual({
        total: LIST_TOTAL_CAP + 6,
        groups: [
          { key: 'many', count: LIST_TOTAL_CAP + 5 },
          { key: 'few', count: 1 },
        ],
        truncated: false,
      });
      const filtered = await storage.aggregateRuns('status', { idPrefix: 'm' }, 10);
      expect(filtered.total).toBe(LIST_TOTAL_CAP + 5);
    });
  });

  describe('aggregateRuns', () => {
    test('counts by status, largest group first, then by key', async () => {
      const storage = await seeded();
      expect(await storage.aggregateRuns('status', {}, 10)).toEqual({
        total: 7,
        groups: [
          { key: 'failed', count: 3 },
          { key: 'completed', count: 1 },
          { key: 'pending', count: 1 },
          { key: 'running', count: 1 },
          { key: 'suspended', count: 1 },
        ],
        truncated: false,
      });
    });

    test('counts by type', async () => {
      const storage = await seeded();
      expect(await storage.aggregateRuns('type', {}, 10)).toEqual({
        total: 7,
        groups: [
          { key: 'order', count: 3 },
          { key: 'refund', count: 2 },
          { key: 'ship', count: 2 },
        ],
        truncated: false,
      });
    });

    test('counts by failure category, with runs that have none in the total only', async () => {
      const storage = await seeded();
      expect(await storage.aggregateRuns('failureCategory', {}, 10)).toEqual({
        total: 7,
        groups: [
          { key: 'activity', count: 2 },
          { key: 'timeout', count: 1 },
        ],
        truncated: false,
      });
    });

    test('counts by a string attribute, with runs without it in the total only', async () => {
      const storage = await seeded();
      expect(await storage.aggregateRuns('attribute:tier', {}, 10)).toEqual({
        total: 7,
        groups: [
          { key: 'gold', count: 2 },
          { key: 'bronze', count: 1 },
          { key: 'silver', count: 1 },
        ],
        truncated: false,
      });
    });

    test('attribute groups keep their type and order booleans, then numbers ascending, then strings', async () => {
      const storage = await seeded();
      const byN = await storage.aggregateRuns('attribute:n', {}, 10);
      expect(byN).toEqual({
        total: 7,
        groups: [
          { key: true, count: 1 },
          { key: 1, count: 1 },
          { key: 2, count: 1 },
          { key: 10, count: 1 },
          { key: '1', count: 1 },
        ],
        truncated: false,
      });
      expect(byN.groups.map((group) => typeof group.key)).toEqual(['boolean', 'number', 'number', 'number', 'string']);
      expect((await storage.aggregateRuns('attribute:vip', {}, 10)).groups).toEqual([
        { key: false, count: 1 },
        { key: true, count: 1 },
      ]);
    });

    test('group keys of equal count follow the full key order, strings in binary order', async () => {
      const storage = await open();
      const values: AttributeValue[] = ['b', 10, 'B', true, '10', -1.5, 'a', false, '9', 9];
      await storage.commit(
        values.flatMap((value, i): Mutation[] => [
          { op: 'createRun', run: makeRun({ id: `r${i}`, type: String(value) }) },
          { op: 'setAttributes', runId: `r${i}`, attributes: { code: value } },
        ]),
      );
      const keys = async (groupBy: 'type' | 'attribute:code'): Promise<AttributeValue[]> =>
        (await storage.aggregateRuns(groupBy, {}, 100)).groups.map((group) => group.key);
      expect(await keys('attribute:code')).toEqual([false, true, -1.5, 9, 10, '10', '9', 'B', 'a', 'b']);
      // As types, 10 and '10' (and 9 and '9') are the same string, so those two groups count 2.
      expect(await keys('type')).toEqual(['10', '9', '-1.5', 'B', 'a', 'b', 'false', 'true']);
    });

    test('a larger group comes before a smaller one whatever their keys', async () => {
      const storage = await open();
      const codes: AttributeValue[] = ['z', 'z', 'z', 1, 1, false];
      await storage.commit(
        codes.flatMap((code, i): Mutation[] => [
          { op: 'createRun', run: makeRun({ id: `r${i}` }) },
          { op: 'setAttributes', runId: `r${i}`, attributes: { code } },
        ]),
      );
      expect((await storage.aggregateRuns('attribute:code', {}, 10)).groups).toEqual([
        { key: 'z', count: 3 },
        { key: 1, count: 2 },
        { key: false, count: 1 },
      ]);
    });

    test('counts only the runs the query matches', async () => {
      const storage = await seeded();
      expect(await storage.aggregateRuns('type', { statuses: [RunStatus.failed] }, 10)).toEqual({
        total: 3,
        groups: [
          { key: 'order', count: 1 },
          { key: 'refund', count: 1 },
          { key: 'ship', count: 1 },
        ],
        truncated: false,
      });
      expect(await storage.aggregateRuns('attribute:n', { attributes: { tier: 'gold' } }, 10)).toEqual({
        total: 2,
        groups: [
          { key: 1, count: 1 },
          { key: 2, count: 1 },
        ],
        truncated: false,
      });
      expect(await storage.aggregateRuns('status', { types: ['nope'] }, 10)).toEqual({
        total: 0,
        groups: [],
        truncated: false,
      });
    });

    test('maxGroups keeps the first groups and says whether there were more', async () => {
      const storage = await seeded();
      expect(await storage.aggregateRuns('status', {}, 2)).toEqual({
        total: 7,
        groups: [
          { key: 'failed', count: 3 },
          { key: 'completed', count: 1 },
        ],
        truncated: true,
      });
      const exact = await storage.aggregateRuns('status', {}, 5);
      expect(exact.groups).toHaveLength(5);
      expect(exact.truncated).toBe(false);
      expect(await storage.aggregateRuns('type', {}, 0)).toEqual({ total: 7, groups: [], truncated: true });
    });

    test('an attribute name may contain a colon', async () => {
      const storage = await open();
      await storage.commit([
        { op: 'createRun', run: makeRun({ id: 'r1' }) },
        { op: 'setAttributes', runId: 'r1', attributes: { 'a:b': 'x', a: 'y' } },
      ]);
      expect((await storage.aggregateRuns('attribute:a:b', {}, 10)).groups).toEqual([{ key: 'x', count: 1 }]);
      expect((await storage.aggregateRuns('attribute:a', {}, 10)).groups).toEqual([{ key: 'y', count: 1 }]);
    });
  });
}
