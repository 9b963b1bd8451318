/**
 * Listings and aggregates on SQLite: every main query shape starts from an index (checked with
 * `EXPLAIN QUERY PLAN` on the SQL the storage runs), and a few thousand runs list, page and count
 * exactly as a plain in-memory model of the contract says.
 */
import { Database } from 'bun:sqlite';
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AttributeValue, Mutation, RunGroupBy, RunQuery, RunRecord, RunStatus } from '../storage.ts';
import { makeRunRecord } from '../../testing/index.ts';
import type { BoundSql } from './run-query.ts';
import type { ListDriver } from './list-plan.ts';
import { chooseDriver } from './list-plan.ts';
import { prefixEnd, queryTerms } from './query-terms.ts';
import { aggregateRunsSql, listRunsSql } from './run-query.ts';
import { SQLiteStorage } from './sqlite-storage.ts';
import { StatementCache } from './statement-cache.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-sqlite-query-'));
const path = join(dir, 'runs.db');
let storage: SQLiteStorage;
let reader: Database;

const STATUSES: RunStatus[] = ['pending', 'running', 'suspended', 'completed', 'failed', 'cancelled', 'timed_out'];
const TYPES = ['order', 'refund', 'ship', 'invoice'];
const COUNT = 3_000;

interface ModelRun {
  run: RunRecord;
  attributes: Record<string, AttributeValue>;
}

/** Deterministic fixture: many ties on createdAt, children, failures and typed attributes. */
const model: ModelRun[] = Array.from({ length: COUNT }, (_, i) => {
  const status = STATUSES[(i * 7) % STATUSES.length] ?? 'pending';
  const attributes: Record<string, AttributeValue> = { tenant: `t${i % 13}` };
  if (i % 3 === 0) attributes['priority'] = i % 5;
  if (i % 4 === 0) attributes['priority'] = String(i % 5);
  if (i % 11 === 0) attributes['vip'] = i % 2 === 0;
  return {
    run: makeRunRecord({
      id: `run-${(i * 7919) % COUNT}`,
      type: TYPES[i % TYPES.length] ?? 'order',
      status,
      createdAt: Math.floor(i / 4),
      updatedAt: 10_000 - i,
      deadline: i % 6 === 0 ? null : 5_000 + i,
      failureCategory: status === 'failed' ? (i % 2 === 0 ? 'activity' : 'timeout') : null,
      parentId: i % 10 === 0 ? null : `run-${i - (i % 10)}`,
    }),
    attributes,
  };
});

beforeAll(async () => {
  storage = new SQLiteStorage(path);
  const mutations: Mutation[] = model.flatMap(({ run, attributes }): Mutation[] => [
    { op: 'createRun', run },
    { op: 'setAttributes', runId: run.id, attributes },
  ]);
  await storage.commit(mutations);
  reader = new Database(path, { readonly: true });
});

afterAll(async () => {
  reader.close();
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One line per step of SQLite's plan for `bound`. */
function planOf(bound: BoundSql): string[] {
  const rows = reader.query(`EXPLAIN QUERY PLAN ${bound.sql}`).all(...bound.params) as { detail: string }[];
  return rows.map((row) => row.detail);
}

/** A plan step that reads the runs table (alias r) row by row without an index. */
const FULL_SCAN = /^SCAN (r|runs)$/;

describe('query plans', () => {
  const listing: [string, RunQuery, string][] = [
    ['no filter, newest first', {}, 'runs_by_created'],
    ['one status', { statuses: ['failed'] }, 'runs_by_status'],
    ['several statuses', { statuses: ['failed', 'completed'] }, 'runs_by_status'],
    ['a type', { types: ['order'] }, 'runs_by_type'],
    ['a parent', { parentId: 'run-10' }, 'runs_by_parent'],
    ['a parent and an attribute', { parentId: 'run-10', attributes: { tenant: 't1' } }, 'runs_by_parent'],
    ['a failure category', { failureCategories: ['activity'] }, 'runs_by_failure_category'],
    ['an attribute', { attributes: { tenant: 't3' } }, 'attributes_by_value'],
    [
      'two attributes and a status',
      { attributes: { tenant: 't3', vip: true }, statuses: ['failed'] },
      'attributes_by_value',
    ],
    ['a creation range', { createdAfter: 10, createdBefore: 20 }, 'runs_by_created'],
    ['an id prefix', { idPrefix: 'run-1' }, 'sqlite_autoindex_runs_1'],
  ];
  for (const [title, query, index] of listing) {
    test(`listing by ${title} starts from ${index}, as does its total`, () => {
      const sql = listRunsSql(query, { limit: 20 });
      if (sql === undefined) throw new Error('query matches nothing');
      const page = planOf(sql.page);
      expect(page.join(' | ')).toContain(index);
      expect(page.filter((step) => FULL_SCAN.test(step))).toEqual([]);
      const count = planOf(sql.count);
      expect(count.filter((step) => FULL_SCAN.test(step))).toEqual([]);
    });
  }

  test('newest first on one status, a type or a parent needs no sort: the index is read backwards', () => {
    for (const query of [{}, { statuses: ['running'] }, { types: ['ship'] }, { parentId: 'run-20' }] as RunQuery[]) {
      const sql = listRunsSql(query, { limit: 20 });
      expect(planOf(sql!.page).join(' | ')).not.toContain('TEMP B-TREE');
    }
  });

  test('a keyset page starts at its key: a range on the walking index, no skipped rows, no sort', () => {
    const after = { createdAt: 400, id: 'run-5' };
    for (const [query, index, driver] of [
      [{}, 'runs_by_created', undefined],
      [{ statuses: ['running'] }, 'runs_by_status', undefined],
      [{ types: ['ship'] }, 'runs_by_type', undefined],
      [{ parentId: 'run-20' }, 'runs_by_parent', undefined],
      [
        { statuses: ['failed'], types: ['order'] },
        'runs_by_status_type',
        { index: 'runs_by_status_type', ordered: true },
      ],
      [
        { failureCategories: ['activity'] },
        'runs_by_failure_category',
        { index: 'runs_by_failure_category', ordered: true },
      ],
      // createdBefore past the key is implied by it: the key, not createdBefore, bounds the range.
      [{ createdBefore: 500 }, 'runs_by_created', { index: 'runs_by_created', ordered: true }],
    ] as [RunQuery, string, ListDriver | undefined][]) {
      const sql = listRunsSql(query, { limit: 20, after }, driver);
      const plan = planOf(sql!.page).join(' | ');
      expect(plan).toContain(index);
      expect(plan).toContain('(created_at,id)<(?,?)');
      expect(plan).not.toContain('TEMP B-TREE');
      // The keyset narrows the page only; the count is the query's.
      expect(sql!.count.params).not.toContain('run-5');
    }
  });

  const aggregates: [RunGroupBy, RunQuery, string][] = [
    ['status', {}, 'runs_by_status'],
    ['status', { attributes: { tenant: 't2' } }, 'attributes_by_value'],
    ['type', {}, 'runs_by_type'],
    ['failureCategory', {}, 'runs_by_failure_category'],
    ['attribute:tenant', {}, 'attributes_by_value'],
    ['attribute:tenant', { statuses: ['failed'] }, 'attributes_by_value'],
  ];
  for (const [groupBy, query, index] of aggregates) {
    test(`aggregating by ${groupBy} over ${JSON.stringify(query)} reads ${index}`, () => {
      const sql = aggregateRunsSql(groupBy, query, 10);
      if (sql === undefined) throw new Error('query matches nothing');
      const groups = planOf(sql.groups);
      expect(groups.join(' | ')).toContain(index);
      expect(groups.filter((step) => FULL_SCAN.test(step))).toEqual([]);
    });
  }

  test('the listing names its driving index from bounded counts: the fewest matches, or a walk in page order', () => {
    const cache = new StatementCache(reader);
    const drive = (query: RunQuery): string => {
      const terms = queryTerms(query);
      if (terms === undefined) throw new Error('query matches nothing');
      const driver = chooseDriver(cache, terms, query.parentId !== undefined, 20);
      const sql = listRunsSql(query, { limit: 20 }, driver);
      const plan = planOf(sql!.page);
      expect(plan.filter((step) => FULL_SCAN.test(step))).toEqual([]);
      return plan.join(' | ');
    };
    try {
      // Status and type together: one range of the composite index, already newest first.
      expect(drive({ statuses: ['failed'], types: ['order'] })).toContain('runs_by_status_type');
      expect(drive({ statuses: ['failed'], types: ['order'] })).not.toContain('TEMP B-TREE');
      // A rare attribute beside a common status: the attribute's few runs are read and sorted.
      expect(drive({ statuses: ['pending', 'failed'], attributes: { vip: true } })).toContain('attributes_by_value');
      // An id prefix matching most runs is not sorted whole: runs are walked newest first.
      expect(drive({ idPrefix: 'run-' })).toContain('runs_by_created');
      // A range with only an upper bound on updated_at matches the oldest runs: sort that range.
      expect(drive({ updatedBefore: 9_000 })).toContain('runs_by_updated');
      expect(drive({ deadlineAfter: 7_000 })).toContain('runs_by_deadline');
    } finally {
      cache.finalizeAll();
    }
  });

  test('values are bound, never written into the SQL text', () => {
    const sql = listRunsSql(
      { types: ["o'; DROP TABLE runs; --"], attributes: { "k'": "v'" }, idPrefix: "'", createdAfter: 5 },
      { limit: 20 },
    );
    expect(sql?.page.sql).not.toContain("'");
    expect(sql?.page.params).toContain("o'; DROP TABLE runs; --");
  });
});

describe('listing a few thousand runs', () => {
  /** The contract's order: createdAt descending, then id descending (ASCII ids, so JS order is binary). */
  const newestFirst = (a: RunRecord, b: RunRecord): number =>
    b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

  function matches({ run, attributes }: ModelRun, query: RunQuery): boolean {
    return (
      (query.statuses === undefined || query.statuses.includes(run.status)) &&
      (query.types === undefined || query.types.includes(run.type)) &&
      (query.parentId === undefined || run.parentId === query.parentId) &&
      (query.idPrefix === undefined || run.id.startsWith(query.idPrefix)) &&
      (query.createdAfter === undefined || run.createdAt > query.createdAfter) &&
      (query.deadlineBefore === undefined || (run.deadline !== null && run.deadline < query.deadlineBefore)) &&
      Object.entries(query.attributes ?? {}).every(([key, value]) => attributes[key] === value)
    );
  }

  const expected = (query: RunQuery): string[] =>
    model
      .filter((entry) => matches(entry, query))
      .map((entry) => entry.run)
      .sort(newestFirst)
      .map((run) => run.id);

  const queries: RunQuery[] = [
    {},
    { statuses: ['failed', 'suspended'] },
    { types: ['ship'], createdAfter: 300 },
    { parentId: 'run-1230' },
    { idPrefix: 'run-12' },
    { attributes: { priority: 2 } },
    { attributes: { priority: '2' } },
    { attributes: { tenant: 't4', vip: false }, deadlineBefore: 6_000 },
    { statuses: ['failed'], attributes: { tenant: 't5' }, types: ['order', 'invoice'] },
  ];
  for (const query of queries) {
    test(`${JSON.stringify(query)} lists what the model lists, page by page`, async () => {
      const all = expected(query);
      const whole = await storage.listRuns(query, { limit: COUNT });
      expect(whole.runs.map((run) => run.id)).toEqual(all);
      expect(whole.total).toBe(all.length);
      const paged: string[] = [];
      for (let offset = 0; offset < all.length; offset += 97) {
        const page = await storage.listRuns(query, { limit: 97, offset });
        expect(page.total).toBe(all.length);
        paged.push(...page.runs.map((run) => run.id));
      }
      expect(paged).toEqual(all);
    });
  }

  test('aggregates count what the model counts', async () => {
    const byStatus = new Map<string, number>();
    for (const { run } of model) byStatus.set(run.status, (byStatus.get(run.status) ?? 0) + 1);
    const aggregate = await storage.aggregateRuns('status', {}, 100);
    expect(aggregate.total).toBe(COUNT);
    expect(new Map(aggregate.groups.map((group) => [group.key, group.count]))).toEqual(byStatus);

    const priorities = await storage.aggregateRuns('attribute:priority', {}, 100);
    const withPriority = model.filter((entry) => 'priority' in entry.attributes).length;
    expect(priorities.groups.reduce((sum, group) => sum + group.count, 0)).toBe(withPriority);
    // Numbers and strings of the same digits are separate groups, numbers first on equal counts.
    expect(priorities.groups.filter((group) => typeof group.key === 'number')).toHaveLength(5);
    expect(priorities.groups.filter((group) => typeof group.key === 'string')).toHaveLength(5);
  });
});

describe('odd arguments', () => {
  test('an unknown groupBy is refused with invalid_argument, even when no run matches', async () => {
    for (const query of [{}, { statuses: [] }] as RunQuery[]) {
      await expect(storage.aggregateRuns('colour' as RunGroupBy, query, 10)).rejects.toMatchObject({
        code: 'invalid_argument',
      });
    }
  });

  test('an infinite limit or maxGroups means no cap; a negative or NaN one means none', async () => {
    expect((await storage.listRuns({}, { limit: Number.POSITIVE_INFINITY })).runs).toHaveLength(COUNT);
    expect((await storage.listRuns({}, { limit: Number.NaN })).runs).toHaveLength(0);
    expect((await storage.listRuns({}, { limit: 10, offset: Number.POSITIVE_INFINITY })).runs).toHaveLength(0);
    const all = await storage.aggregateRuns('type', {}, Number.POSITIVE_INFINITY);
    expect(all).toMatchObject({ total: COUNT, truncated: false });
    expect(all.groups).toHaveLength(TYPES.length);
    expect(await storage.aggregateRuns('type', {}, -1)).toEqual({ total: COUNT, groups: [], truncated: true });
  });

  test('an attribute value no run can hold matches no run', async () => {
    const page = await storage.listRuns({ attributes: { tenant: Number.NaN } }, { limit: 10 });
    expect(page).toEqual({ runs: [], total: 0, totalIsExact: true });
  });

  test('setting an attribute to something other than a string, finite number or boolean is invalid_argument', async () => {
    const attributes = { tenant: { nested: true } } as unknown as Record<string, AttributeValue>;
    await expect(storage.commit([{ op: 'setAttributes', runId: 'run-1', attributes }])).rejects.toMatchObject({
      code: 'invalid_argument',
    });
    expect(await storage.getAttributes('run-1')).toMatchObject({ tenant: expect.any(String) });
  });
});

describe('prefixEnd', () => {
  test('raises the last code point, so the range [prefix, end) is exactly the strings with that prefix', () => {
    expect(prefixEnd('run-1')).toBe('run-2');
    expect(prefixEnd('a\u{10FFFF}')).toBe('b');
    expect(prefixEnd('a\u{D7FF}')).toBe('a\u{E000}');
    expect(prefixEnd('a\u{1F600}')).toBe('a\u{1F601}');
  });

  test('has no answer for a prefix of only U+10FFFF or one ending in a lone surrogate', () => {
    expect(prefixEnd('\u{10FFFF}\u{10FFFF}')).toBeUndefined();
    expect(prefixEnd('a\uD800')).toBeUndefined();
  });
});
