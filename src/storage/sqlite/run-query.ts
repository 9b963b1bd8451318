/**
 * `listRuns` and `aggregateRuns`: a `RunQuery` turned into SQL over the runs indexes, and run.
 *
 * Traps it avoids:
 * - SQL injection and plan churn. Values are always bound (`?`), never spliced into the text; the
 *   text depends only on which fields are set, how many values an array holds and which index
 *   drives the listing, so the statement cache sees a handful of shapes.
 * - A page that costs the table. Without statistics SQLite cannot tell "suspended tickets" (none)
 *   from "completed tickets" (400,000), and picked plans that read every ticket or sorted every
 *   match. `list-plan.ts` counts, cheaply and bounded, how many runs each usable index would yield
 *   and names the driving index (`INDEXED BY`): a small set is read and sorted; otherwise an index
 *   already in newest-first order is walked until the page is full. `run-query.test.ts` checks plans.
 * - A total that counts every match. Totals of status/type listings, and aggregates by status or
 *   type over such a filter, read `run_counts` (kept by triggers, a few rows); any other total
 *   stops counting past `LIST_TOTAL_CAP` and says so (`totalIsExact: false`).
 * - Payloads in listings. Only summary columns are read; the v2 schema stores the payloads after them.
 * - A deep page that costs its depth. `OFFSET` skips row by row; a cursor (`options.after`) is a range
 *   on the driving index's `(created_at, id)` tail instead, so page 200 costs what page 1 does.
 * - A total that disagrees with the page. Both are read in the same synchronous call (and, on the
 *   read worker, one transaction), so no commit can land between the two statements.
 */
import type { SQLQueryBindings } from 'bun:sqlite';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { AttributeValue, ListRunsOptions, RunAggregate, RunGroupBy, RunPage, RunQuery } from '../storage.ts';
import { boundedTotal, isStatusTypeQuery, LIST_TOTAL_CAP } from '../storage.ts';
import { decodeAttribute } from './attribute-value.ts';
import type { ListDriver } from './list-plan.ts';
import { chooseDriver, statusTypeCount, statusTypeGroups } from './list-plan.ts';
import type { QueryTerms } from './query-terms.ts';
import { queryTerms, statusTypeTerm } from './query-terms.ts';
import { toRunSummary } from './sqlite-rows.ts';
import type { RunSummaryRow } from './sqlite-statements.ts';
import { RUN_SUMMARY_COLUMNS, sqlLimit } from './sqlite-statements.ts';
import type { StatementCache } from './statement-cache.ts';

/** SQL text and the values for its `?` placeholders, in order. */
export interface BoundSql {
  sql: string;
  params: SQLQueryBindings[];
}

/** The runs a query covers: a FROM clause over `runs r` and WHERE terms, with their values in order. */
interface RunFilter {
  from: string;
  terms: string[];
  params: SQLQueryBindings[];
}

const SUMMARY_COLUMNS = RUN_SUMMARY_COLUMNS.map((column) => `r.${column}`).join(', ');
/**
 * The runs after a cursor's key in listing order. A row value, not `created_at < ? OR (… AND id < ?)`:
 * SQLite reads it as one range on the `(…, created_at, id)` tail of every index that walks in page
 * order (`SEARCH … USING INDEX runs_by_status (status=? AND (created_at,id)<(?,?))`), so a deep page
 * starts at its key instead of skipping every row before it.
 */
const KEYSET = '(r.created_at, r.id) < (?, ?)';
const ATTRIBUTE_GROUP_PREFIX = 'attribute:';

/**
 * The page and total statements of `listRuns`; undefined when the query can match no run. Without a
 * `driver` SQLite picks the plan; `listRuns` passes the one `list-plan.ts` chose. The total counts at
 * most `LIST_TOTAL_CAP + 1` matches.
 */
export function listRunsSql(
  query: RunQuery,
  options: ListRunsOptions,
  driver?: ListDriver,
): { page: BoundSql; count: BoundSql } | undefined {
  const terms = queryTerms(query);
  if (terms === undefined) return undefined;
  const filter = runFilter(terms, query.parentId !== undefined, driver);
  const where = whereClause(filter.terms);
  const page = keysetFilter(query, options, driver) ?? filter;
  return {
    page: {
      sql: `SELECT ${SUMMARY_COLUMNS} FROM ${page.from}${whereClause(page.terms)} ORDER BY r.created_at DESC, r.id DESC LIMIT ? OFFSET ?`,
      params: [...page.params, sqlLimit(options.limit), sqlOffset(options.offset ?? 0)],
    },
    count: {
      // A driver walked newest first is counted in that order too, or the count would start from
      // the oldest end, far from the matches; a driver that is sorted is counted unsorted.
      sql: `SELECT count(*) AS total FROM (SELECT 1 FROM ${filter.from}${where}${driver?.ordered === true ? ' ORDER BY r.created_at DESC, r.id DESC' : ''} LIMIT ?)`,
      params: [...filter.params, LIST_TOTAL_CAP + 1],
    },
  };
}

/**
 * The page's filter after `options.after`; undefined without a key, or when the key is implied by
 * `createdBefore` (it lies at or past it). The keyset narrows the page, never the count: `total` is
 * the query's, not what is left of it. Both are upper bounds on `created_at`, and SQLite keeps only
 * one as the range of `runs_by_created`: given both, it walked from `createdBefore` down to the key,
 * every skipped row again (10 ms at page 5,000 of 20), so the one implied by the other is dropped.
 */
function keysetFilter(query: RunQuery, options: ListRunsOptions, driver?: ListDriver): RunFilter | undefined {
  const after = options.after;
  if (after === undefined) return undefined;
  const before = query.createdBefore;
  if (before !== undefined && after.createdAt >= before) return undefined;
  const narrowed = before === undefined ? query : { ...query, createdBefore: undefined };
  const terms = queryTerms(narrowed);
  if (terms === undefined) return undefined;
  const filter = runFilter(terms, query.parentId !== undefined, driver);
  return { from: filter.from, terms: [...filter.terms, KEYSET], params: [...filter.params, after.createdAt, after.id] };
}

/** The groups and total statements of `aggregateRuns`; undefined when the query can match no run. */
export function aggregateRunsSql(
  groupBy: RunGroupBy,
  query: RunQuery,
  maxGroups: number,
): { groups: BoundSql; count: BoundSql } | undefined {
  const attributeKey = attributeGroupKey(groupBy);
  const column = groupColumn(groupBy);
  const terms = queryTerms(query);
  if (terms === undefined) return undefined;
  const filter = runFilter(terms, query.parentId !== undefined);
  const limit = groupLimit(maxGroups);
  if (attributeKey !== undefined) {
    // Runs without the attribute drop out of the inner join, as the contract wants for groups.
    const where = whereClause(['g.key = ?', ...filter.terms]);
    return {
      groups: {
        sql: `SELECT g.kind AS kind, g.value AS key, count(*) AS n FROM ${filter.from}
          JOIN attributes g ON g.run_id = r.id${where}
          GROUP BY g.kind, g.value ORDER BY n DESC, g.kind, g.value LIMIT ?`,
        params: [attributeKey, ...filter.params, limit],
      },
      count: countOf(filter),
    };
  }
  // Only failure_category can be NULL; saying so lets SQLite use the partial index on it.
  const where = whereClause(
    column === 'failure_category' ? ['r.failure_category IS NOT NULL', ...filter.terms] : filter.terms,
  );
  return {
    groups: {
      sql: `SELECT r.${column} AS key, count(*) AS n FROM ${filter.from}${where}
        GROUP BY r.${column} ORDER BY n DESC, key LIMIT ?`,
      params: [...filter.params, limit],
    },
    count: countOf(filter),
  };
}

const GROUP_COLUMNS = { status: 'status', type: 'type', failureCategory: 'failure_category' } as const;

/** One page of runs, newest first, and how many match (see `RunPage` for when that is exact). */
export function listRuns(statements: StatementCache, query: RunQuery, options: ListRunsOptions): RunPage {
  const terms = queryTerms(query);
  if (terms === undefined) return { runs: [], total: 0, totalIsExact: true };
  const limit = options.limit === Number.POSITIVE_INFINITY ? Number.MAX_SAFE_INTEGER : sqlLimit(options.limit);
  const reach = sqlOffset(options.offset ?? 0) + limit;
  const driver = chooseDriver(statements, terms, query.parentId !== undefined, reach);
  const sql = listRunsSql(query, options, driver);
  if (sql === undefined) return { runs: [], total: 0, totalIsExact: true };
  const runs = statements
    .get<RunSummaryRow>(sql.page.sql)
    .all(...sql.page.params)
    .map(toRunSummary);
  const exactAlways = isStatusTypeQuery(query);
  const counted = exactAlways ? statusTypeCount(statements, terms) : countRuns(statements, sql.count);
  return { runs, ...boundedTotal(counted, exactAlways, sqlOffset(options.offset ?? 0), runs.length) };
}

/** Counts by group, largest first; see `RunAggregate` for the order of ties and what `truncated` means. */
export function aggregateRuns(
  statements: StatementCache,
  groupBy: RunGroupBy,
  query: RunQuery,
  maxGroups: number,
): RunAggregate {
  const sql = aggregateRunsSql(groupBy, query, maxGroups);
  if (sql === undefined) return { total: 0, groups: [], truncated: false };
  const column = groupColumn(groupBy);
  const keep = groupCap(maxGroups);
  if ((column === 'status' || column === 'type') && isStatusTypeQuery(query)) {
    // O(groups): the counts the triggers keep, not a scan of every run.
    const terms = queryTerms(query) ?? { attributes: [] };
    const rows = statusTypeGroups(statements, column, terms, groupLimit(maxGroups));
    const kept = rows.slice(0, keep ?? rows.length);
    return { total: statusTypeCount(statements, terms), groups: kept, truncated: rows.length > kept.length };
  }
  const rows = statements
    .get<{ kind?: string; key: string | number; n: number }>(sql.groups.sql)
    .all(...sql.groups.params);
  const kept = rows.slice(0, keep ?? rows.length);
  const groups = kept.map((row) => ({
    key: row.kind === undefined ? (row.key as AttributeValue) : decodeAttribute(row.kind, row.key),
    count: row.n,
  }));
  return { total: countRuns(statements, sql.count), groups, truncated: rows.length > kept.length };
}

function countRuns(statements: StatementCache, count: BoundSql): number {
  return statements.get<{ total: number }>(count.sql).get(...count.params)?.total ?? 0;
}

function countOf(filter: RunFilter): BoundSql {
  return { sql: `SELECT count(*) AS total FROM ${filter.from}${whereClause(filter.terms)}`, params: filter.params };
}

function attributeGroupKey(groupBy: RunGroupBy): string | undefined {
  return typeof groupBy === 'string' && groupBy.startsWith(ATTRIBUTE_GROUP_PREFIX)
    ? groupBy.slice(ATTRIBUTE_GROUP_PREFIX.length)
    : undefined;
}

/** The runs column a grouping reads; null for an attribute. Throws on an unknown grouping. */
function groupColumn(groupBy: RunGroupBy): (typeof GROUP_COLUMNS)[keyof typeof GROUP_COLUMNS] | null {
  if (Object.hasOwn(GROUP_COLUMNS, groupBy)) return GROUP_COLUMNS[groupBy as keyof typeof GROUP_COLUMNS];
  if (attributeGroupKey(groupBy) !== undefined) return null;
  throw new InvalidArgumentError(
    `Unknown groupBy ${JSON.stringify(groupBy)}: use 'status', 'type', 'failureCategory' or 'attribute:<key>'`,
  );
}

/**
 * FROM and WHERE for `terms`. An attribute driver puts that attribute's index first (a join, forced
 * by CROSS JOIN); any other driver names its index on `runs`. Without one, the first attribute
 * drives unless a parent does (a parent's children are few, and without statistics SQLite would
 * prefer the three-column attribute match over runs_by_parent); SQLite picks the rest.
 */
function runFilter(terms: QueryTerms, hasParent: boolean, driver?: ListDriver): RunFilter {
  const where: string[] = [];
  const params: SQLQueryBindings[] = [];
  let from = 'runs r';
  let driving: number | undefined = hasParent ? undefined : 0;
  if (driver !== undefined) {
    driving = driver.attribute;
    from = driver.attribute === undefined ? `runs r INDEXED BY ${driver.index}` : from;
  }
  terms.attributes.forEach((values, index) => {
    if (index === driving) {
      from =
        driver === undefined
          ? 'attributes a0 JOIN runs r ON r.id = a0.run_id'
          : 'attributes a0 INDEXED BY attributes_by_value CROSS JOIN runs r ON r.id = a0.run_id';
      where.unshift('a0.key = ? AND a0.kind = ? AND a0.value = ?');
      params.unshift(...values);
    } else {
      const a = `a${index + 1}`;
      where.push(
        `EXISTS (SELECT 1 FROM attributes ${a} WHERE ${a}.run_id = r.id AND ${a}.key = ? AND ${a}.kind = ? AND ${a}.value = ?)`,
      );
      params.push(...values);
    }
  });
  for (const term of [
    statusTypeTerm(terms),
    terms.failureCategory,
    terms.parent,
    terms.prefix,
    terms.created,
    terms.updated,
    terms.deadline,
  ]) {
    if (term === undefined) continue;
    where.push(term.sql);
    params.push(...term.params);
  }
  return { from, terms: where, params };
}

function whereClause(terms: readonly string[]): string {
  return terms.length === 0 ? '' : ` WHERE ${terms.join(' AND ')}`;
}

/** At most this many groups; undefined for no cap. */
function groupCap(maxGroups: number): number | undefined {
  return maxGroups === Number.POSITIVE_INFINITY ? undefined : sqlLimit(maxGroups);
}

/** The LIMIT of a groups statement: one row more than asked for tells whether there were more groups. */
function groupLimit(maxGroups: number): number {
  const cap = groupCap(maxGroups);
  return cap === undefined ? -1 : cap + 1;
}

function sqlOffset(offset: number): number {
  if (offset === Number.POSITIVE_INFINITY) return Number.MAX_SAFE_INTEGER;
  return Math.max(0, Math.floor(offset) || 0);
}
