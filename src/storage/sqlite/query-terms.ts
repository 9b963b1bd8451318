/**
 * A `RunQuery` taken apart into its SQL conditions, one per filter field, so the listing can probe
 * each on its own index (`list-plan.ts`) and combine them (`run-query.ts`).
 *
 * Traps it avoids:
 * - SQL injection. Values are always bound (`?`); the text depends only on which fields are set
 *   and how many values a list holds.
 * - A prefix read as a pattern. `idPrefix` becomes a range on the primary key, never `LIKE`.
 * - A filter that matches nothing read as no filter. An empty list, or an attribute value no run
 *   can hold, makes the whole query match nothing (`queryTerms` returns undefined).
 */
import type { SQLQueryBindings } from 'bun:sqlite';
import type { RunQuery } from '../storage.ts';
import { encodeAttribute } from './attribute-value.ts';

/** One condition of a query on its own, as `list-plan.ts` probes it and `runFilter` combines it. */
export interface QueryTerm {
  sql: string;
  params: SQLQueryBindings[];
}

/** A query's conditions by what they filter; undefined when the query can match no run. */
export interface QueryTerms {
  statuses?: string[];
  types?: string[];
  failureCategory?: QueryTerm;
  parent?: QueryTerm;
  prefix?: QueryTerm;
  created?: QueryTerm;
  updated?: QueryTerm;
  deadline?: QueryTerm;
  /** `[key, kind, value]` of each attribute the run must have. */
  attributes: SQLQueryBindings[][];
}

/** Undefined when the query cannot match any run: an empty list, or an attribute value no run can hold. */
export function queryTerms(query: RunQuery): QueryTerms | undefined {
  const terms: QueryTerms = { attributes: [] };
  for (const [key, value] of Object.entries(query.attributes ?? {})) {
    if (value === undefined) continue;
    const stored = encodeAttribute(value);
    if (stored === undefined) return undefined;
    terms.attributes.push([key, stored.kind, stored.value]);
  }
  for (const [field, values] of [
    ['statuses', query.statuses],
    ['types', query.types],
  ] as const) {
    if (values === undefined) continue;
    terms[field] = [...new Set<string>(values)];
    if (terms[field].length === 0) return undefined;
  }
  if (query.failureCategories !== undefined) {
    const distinct = [...new Set<string>(query.failureCategories)];
    if (distinct.length === 0) return undefined;
    terms.failureCategory = { sql: `r.failure_category IN (${marks(distinct)})`, params: distinct };
  }
  if (query.parentId !== undefined) terms.parent = { sql: 'r.parent_id = ?', params: [query.parentId] };
  if (query.idPrefix !== undefined && query.idPrefix !== '') {
    // A range on the primary key; the substr check covers the prefixes without a computable end.
    const end = prefixEnd(query.idPrefix);
    terms.prefix =
      end === undefined
        ? {
            sql: 'r.id >= ? AND substr(r.id, 1, length(?)) = ?',
            params: [query.idPrefix, query.idPrefix, query.idPrefix],
          }
        : { sql: 'r.id >= ? AND r.id < ?', params: [query.idPrefix, end] };
  }
  terms.created = rangeTerm('created_at', query.createdAfter, query.createdBefore);
  terms.updated = rangeTerm('updated_at', query.updatedAfter, query.updatedBefore);
  // NULL compares as neither greater nor less, so a run without a deadline never matches a range.
  terms.deadline = rangeTerm('deadline', query.deadlineAfter, query.deadlineBefore);
  return terms;
}

function rangeTerm(column: string, after: number | undefined, before: number | undefined): QueryTerm | undefined {
  const sql: string[] = [];
  const params: SQLQueryBindings[] = [];
  if (after !== undefined) {
    sql.push(`r.${column} > ?`);
    params.push(after);
  }
  if (before !== undefined) {
    sql.push(`r.${column} < ?`);
    params.push(before);
  }
  return sql.length === 0 ? undefined : { sql: sql.join(' AND '), params };
}

/** The terms for `statuses` / `types` as one `QueryTerm`; undefined when the query has neither. */
export function statusTypeTerm(terms: QueryTerms, alias = 'r'): QueryTerm | undefined {
  const sql: string[] = [];
  const params: SQLQueryBindings[] = [];
  for (const [column, values] of [
    ['status', terms.statuses],
    ['type', terms.types],
  ] as const) {
    if (values === undefined) continue;
    sql.push(`${alias}.${column} IN (${marks(values)})`);
    params.push(...values);
  }
  return sql.length === 0 ? undefined : { sql: sql.join(' AND '), params };
}

function marks(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
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
