/**
 * `listRuns` and `aggregateRuns`: a `RunQuery` turned into SQL over the runs indexes, and run.
 *
 * Traps it avoids:
 * - SQL injection and plan churn. Values are always bound (`?`), never spliced into the text; the
 *   text depends only on which fields are set and how many values an array holds, so the statement
 *   cache sees a handful of shapes and the planner sees literal-free SQL.
 * - Scanning the table. Every shape has an index to start from: `runs_by_created` read backwards for
 *   "newest first", `runs_by_status` / `runs_by_type` / `runs_by_parent` / `runs_by_failure_category`
 *   for their filters, and `attributes_by_value` for attribute equality, which drives the query
 *   through a join (an `EXISTS` alone would make SQLite walk every run newest first and probe).
 *   `run-query.test.ts` checks the plans with `EXPLAIN QUERY PLAN`.
 * - Payloads in listings. Only summary columns are read; the v2 schema stores the payloads after them.
 * - A total that disagrees with the page. `total` is a `COUNT(*)` over the same FROM and WHERE, read
 *   in the same synchronous call, so no commit can land between the two statements.
 */
import type { SQLQueryBindings } from 'bun:sqlite';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { AttributeValue, ListRunsOptions, RunAggregate, RunGroupBy, RunPage, RunQuery } from '../storage.ts';
import { decodeAttribute, encodeAttribute } from './attribute-value.ts';
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
const ATTRIBUTE_GROUP_PREFIX = 'attribute:';

/** The page and total statements of `listRuns`; undefined when the query can match no run. */
export function listRunsSql(
  query: RunQuery,
  options: ListRunsOptions,
): { page: BoundSql; count: BoundSql } | undefined {
  const filter = runFilter(query);
  if (filter === undefined) return undefined;
  const where = whereClause(filter.terms);
  return {
    page: {
      sql: `SELECT ${SUMMARY_COLUMNS} FROM ${filter.from}${where} ORDER BY r.created_at DESC, r.id DESC LIMIT ? OFFSET ?`,
      params: [...filter.params, sqlLimit(options.limit), sqlOffset(options.offset ?? 0)],
    },
    count: countOf(filter),
  };
}

/** The groups and total statements of `aggregateRuns`; undefined when the query can match no run. */
export function aggregateRunsSql(
  groupBy: RunGroupBy,
  query: RunQuery,
  maxGroups: number,
): { groups: BoundSql; count: BoundSql } | undefined {
  const attributeKey =
    typeof groupBy === 'string' && groupBy.startsWith(ATTRIBUTE_GROUP_PREFIX)
      ? groupBy.slice(ATTRIBUTE_GROUP_PREFIX.length)
      : undefined;
  const column = Object.hasOwn(GROUP_COLUMNS, groupBy) ? GROUP_COLUMNS[groupBy as keyof typeof GROUP_COLUMNS] : null;
  if (attributeKey === undefined && column === null) {
    throw new InvalidArgumentError(
      `Unknown groupBy ${JSON.stringify(groupBy)}: use 'status', 'type', 'failureCategory' or 'attribute:<key>'`,
    );
  }
  const filter = runFilter(query);
  if (filter === undefined) return undefined;
  // One row more than asked for tells whether there were more groups.
  const cap = groupCap(maxGroups);
  const limit = cap === undefined ? -1 : cap + 1;
  if (attributeKey !== undefined) {
    // Runs without the attribute drop out of the inner join, as the contract wants for groups.
    const terms = ['g.key = ?', ...filter.terms];
    return {
      groups: {
        sql: `SELECT g.kind AS kind, g.value AS key, count(*) AS n FROM ${filter.from}
          JOIN attributes g ON g.run_id = r.id${whereClause(terms)}
          GROUP BY g.kind, g.value ORDER BY n DESC, g.kind, g.value LIMIT ?`,
        params: [attributeKey, ...filter.params, limit],
      },
      count: countOf(filter),
    };
  }
  // Only failure_category can be NULL; saying so lets SQLite use the partial index on it.
  const terms = column === 'failure_category' ? ['r.failure_category IS NOT NULL', ...filter.terms] : filter.terms;
  return {
    groups: {
      sql: `SELECT r.${column} AS key, count(*) AS n FROM ${filter.from}${whereClause(terms)}
        GROUP BY r.${column} ORDER BY n DESC, key LIMIT ?`,
      params: [...filter.params, limit],
    },
    count: countOf(filter),
  };
}

const GROUP_COLUMNS = { status: 'status', type: 'type', failureCategory: 'failure_category' } as const;

/** One page of runs, newest first, and how many match in all. */
export function listRuns(statements: StatementCache, query: RunQuery, options: ListRunsOptions): RunPage {
  const sql = listRunsSql(query, options);
  if (sql === undefined) return { runs: [], total: 0 };
  const runs = statements
    .get<RunSummaryRow>(sql.page.sql)
    .all(...sql.page.params)
    .map(toRunSummary);
  return { runs, total: countRuns(statements, sql.count) };
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
  const rows = statements
    .get<{ kind?: string; key: string | number; n: number }>(sql.groups.sql)
    .all(...sql.groups.params);
  const keep = groupCap(maxGroups) ?? rows.length;
  const groups = rows.slice(0, keep).map((row) => ({
    key: row.kind === undefined ? (row.key as AttributeValue) : decodeAttribute(row.kind, row.key),
    count: row.n,
  }));
  return { total: countRuns(statements, sql.count), groups, truncated: rows.length > keep };
}

function countRuns(statements: StatementCache, count: BoundSql): number {
  return statements.get<{ total: number }>(count.sql).get(...count.params)?.total ?? 0;
}

function countOf(filter: RunFilter): BoundSql {
  return { sql: `SELECT count(*) AS total FROM ${filter.from}${whereClause(filter.terms)}`, params: filter.params };
}

/** Undefined when the query cannot match any run: an empty list, or an attribute value no run can hold. */
function runFilter(query: RunQuery): RunFilter | undefined {
  const terms: string[] = [];
  const params: SQLQueryBindings[] = [];
  let from = 'runs r';

  const attributes: SQLQueryBindings[][] = [];
  for (const [key, value] of Object.entries(query.attributes ?? {})) {
    if (value === undefined) continue;
    const stored = encodeAttribute(value);
    if (stored === undefined) return undefined;
    attributes.push([key, stored.kind, stored.value]);
  }
  attributes.forEach((values, index) => {
    // The first attribute drives the query, unless a parent does: a parent's children are few, and
    // without statistics SQLite would prefer the three-column attribute match over runs_by_parent.
    if (index === 0 && query.parentId === undefined) {
      from = 'attributes a0 JOIN runs r ON r.id = a0.run_id';
      terms.push('a0.key = ? AND a0.kind = ? AND a0.value = ?');
    } else {
      const a = `a${index}`;
      terms.push(
        `EXISTS (SELECT 1 FROM attributes ${a} WHERE ${a}.run_id = r.id AND ${a}.key = ? AND ${a}.kind = ? AND ${a}.value = ?)`,
      );
    }
    params.push(...values);
  });

  for (const [column, values] of [
    ['status', query.statuses],
    ['type', query.types],
    ['failure_category', query.failureCategories],
  ] as const) {
    if (values === undefined) continue;
    const distinct = [...new Set<string>(values)];
    if (distinct.length === 0) return undefined;
    terms.push(`r.${column} IN (${distinct.map(() => '?').join(', ')})`);
    params.push(...distinct);
  }
  if (query.parentId !== undefined) {
    terms.push('r.parent_id = ?');
    params.push(query.parentId);
  }
  if (query.idPrefix !== undefined && query.idPrefix !== '') {
    // A range on the primary key; the substr check covers the prefixes without a computable end.
    terms.push('r.id >= ?');
    params.push(query.idPrefix);
    const end = prefixEnd(query.idPrefix);
    if (end === undefined) {
      terms.push('substr(r.id, 1, length(?)) = ?');
      params.push(query.idPrefix, query.idPrefix);
    } else {
      terms.push('r.id < ?');
      params.push(end);
    }
  }
  for (const [column, after, before] of [
    ['created_at', query.createdAfter, query.createdBefore],
    ['updated_at', query.updatedAfter, query.updatedBefore],
    // NULL compares as neither greater nor less, so a run without a deadline never matches a range.
    ['deadline', query.deadlineAfter, query.deadlineBefore],
  ] as const) {
    if (after !== undefined) {
      terms.push(`r.${column} > ?`);
      params.push(after);
    }
    if (before !== undefined) {
      terms.push(`r.${column} < ?`);
      params.push(before);
    }
  }
  return { from, terms, params };
}

/**
 * The least string above every string that starts with `prefix`, in SQLite's binary (code point)
 * order: the last code point raised by one, dropping trailing U+10FFFF. Undefined when there is none
 * (only U+10FFFF) or the last code point is a lone surrogate, which UTF-8 cannot represent.
 */
export function prefixEnd(prefix: string): string | undefined {
  const codePoints = Array.from(prefix);
  for (let last = codePoints.pop(); last !== undefined; last = codePoints.pop()) {
    const codePoint = last.codePointAt(0) ?? 0;
    if (codePoint >= 0xd8_00 && codePoint <= 0xdf_ff) return undefined;
    if (codePoint < 0x10_ff_ff) {
      // U+D800–U+DFFF are not characters; the one after U+D7FF is U+E000.
      return codePoints.join('') + String.fromCodePoint(codePoint === 0xd7_ff ? 0xe0_00 : codePoint + 1);
    }
  }
  return undefined;
}

function whereClause(terms: readonly string[]): string {
  return terms.length === 0 ? '' : ` WHERE ${terms.join(' AND ')}`;
}

/** At most this many groups; undefined for no cap. */
function groupCap(maxGroups: number): number | undefined {
  return maxGroups === Number.POSITIVE_INFINITY ? undefined : sqlLimit(maxGroups);
}

function sqlOffset(offset: number): number {
  if (offset === Number.POSITIVE_INFINITY) return Number.MAX_SAFE_INTEGER;
  return Math.max(0, Math.floor(offset) || 0);
}
