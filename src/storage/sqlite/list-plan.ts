/**
 * Which index drives a listing, chosen per call from cheap, bounded counts — SQLite's planner has no
 * statistics here and cannot tell a filter matching nothing from one matching most of the table.
 *
 * Traps it avoids (each measured at 1,000,000 runs, docs/storage-sqlite.md):
 * - Reading every run of a big set to find a few. `status=suspended&type=ticket` walked all 400,000
 *   tickets (99 ms) when SQLite chose `runs_by_type`; an attribute matching 100,000 runs was read
 *   whole and sorted (250 ms); an id prefix matching 40% of runs was sorted whole (775 ms).
 * - Counting that costs what it saves. Status and type counts come from `run_counts` (exact, a few
 *   rows); every other candidate index is probed with `count(*)` over at most `SMALL + 1` entries,
 *   so choosing costs at most a few thousand index entries per filter field.
 *
 * The rule: the candidate with the fewest matches, if it has at most `SMALL`, drives (its matches
 * are read and sorted: bounded work). Otherwise an index whose order is already newest first for
 * this query drives — one status, one type, both, one failure category, a parent, a creation range —
 * and the page is read off it until full; failing that, `runs_by_created`. Either way the filters
 * that do not drive are checked per row, so a page costs about `limit / density` rows.
 */
import type { SQLQueryBindings } from 'bun:sqlite';
import type { AttributeValue } from '../storage.ts';
import type { QueryTerm, QueryTerms } from './query-terms.ts';
import { statusTypeTerm } from './query-terms.ts';
import type { StatementCache } from './statement-cache.ts';

/** How many matches a driving index may have and still be read whole and sorted. */
export const SMALL = 1_000;

/** The index a listing starts from: one of `runs`' indexes, or the attribute at `attribute`. */
export interface ListDriver {
  index: string;
  /** Index into `QueryTerms.attributes` when an attribute drives. */
  attribute?: number;
  /** The index yields this query's matches newest first, so a page needs no sort. */
  ordered: boolean;
}

interface Candidate extends ListDriver {
  /** Matches, exact up to `SMALL + 1`. */
  count: number;
  /** `count` is exact however large (from `run_counts`), not cut at `SMALL + 1`. */
  exact?: boolean;
  /** The matches are the oldest runs (`updatedBefore` / `deadlineBefore` alone). */
  oldEnd?: boolean;
}

/** The index that drives the listing of `terms`, whose page ends `reach` (offset + limit) matches in. */
export function chooseDriver(
  statements: StatementCache,
  terms: QueryTerms,
  hasParent: boolean,
  reach: number,
): ListDriver {
  // A parent's children are few; SQLite's own choice there was already right, and stays.
  if (hasParent) return { index: 'runs_by_parent', ordered: true };
  const candidates: Candidate[] = [];
  const statusType = statusTypeTerm(terms);
  if (statusType !== undefined) {
    const both = terms.statuses !== undefined && terms.types !== undefined;
    candidates.push({
      index: both ? 'runs_by_status_type' : terms.statuses ? 'runs_by_status' : 'runs_by_type',
      count: statusTypeCount(statements, terms),
      exact: true,
      ordered: (terms.statuses?.length ?? 1) === 1 && (terms.types?.length ?? 1) === 1,
    });
  }
  // A range with only an upper bound on `updated_at` or `deadline` matches the oldest runs, so a
  // newest-first walk would read every newer run before its first match: sorting the range is cheaper.
  const oldEnd = (term: QueryTerm | undefined): boolean => term !== undefined && !term.sql.includes('>');
  const probes: [string, QueryTerm | undefined, boolean][] = [
    ['runs_by_failure_category', terms.failureCategory, terms.failureCategory?.params.length === 1],
    ['runs_by_created', terms.created, true],
    ['sqlite_autoindex_runs_1', terms.prefix, false],
    ['runs_by_updated', terms.updated, false],
    ['runs_by_deadline', terms.deadline, false],
  ];
  for (const [index, term, ordered] of probes) {
    if (term === undefined) continue;
    const count = probe(statements, `runs r INDEXED BY ${index}`, term);
    candidates.push({ index, ordered, count, oldEnd: !ordered && index !== 'sqlite_autoindex_runs_1' && oldEnd(term) });
  }
  terms.attributes.forEach((values, attribute) => {
    const term = { sql: 'a.key = ? AND a.kind = ? AND a.value = ?', params: values };
    const count = probe(statements, 'attributes a INDEXED BY attributes_by_value', term);
    candidates.push({ index: 'attributes_by_value', attribute, ordered: false, count });
  });
  const fewest = fewestOf(candidates);
  if (fewest === undefined || fewest.count <= SMALL) return fewest ?? { index: 'runs_by_created', ordered: true };
  const walk = fewestOf(candidates.filter((candidate) => candidate.ordered));
  if (walk !== undefined) return walk;
  // Only status/type counts are exact past SMALL. Sorting all of those matches costs their count;
  // walking every run newest first until the page is full costs about rows / density.
  if (fewest.exact === true) {
    const runs = statusTypeCount(statements, { attributes: [] });
    if (fewest.count < (reach * runs) / fewest.count) return fewest;
  }
  return candidates.find((candidate) => candidate.oldEnd === true) ?? { index: 'runs_by_created', ordered: true };
}

function fewestOf(candidates: readonly Candidate[]): Candidate | undefined {
  return candidates.reduce<Candidate | undefined>((a, b) => (a === undefined || b.count < a.count ? b : a), undefined);
}

/** How many runs have one of the query's statuses and one of its types, from `run_counts`. */
export function statusTypeCount(statements: StatementCache, terms: QueryTerms): number {
  const term = statusTypeTerm(terms, 'c');
  const sql = `SELECT coalesce(sum(c.n), 0) AS n FROM run_counts c${term === undefined ? '' : ` WHERE ${term.sql}`}`;
  return statements.get<{ n: number }>(sql).get(...(term?.params ?? []))?.n ?? 0;
}

/** Counts by status or type for the query's statuses and types, from `run_counts`, in contract order. */
export function statusTypeGroups(
  statements: StatementCache,
  column: 'status' | 'type',
  terms: QueryTerms,
  limit: number,
): { key: AttributeValue; count: number }[] {
  const term = statusTypeTerm(terms, 'c');
  const sql = `SELECT c.${column} AS key, sum(c.n) AS n FROM run_counts c${term === undefined ? '' : ` WHERE ${term.sql}`}
    GROUP BY c.${column} HAVING n > 0 ORDER BY n DESC, key LIMIT ?`;
  const params: SQLQueryBindings[] = [...(term?.params ?? []), limit];
  return statements
    .get<{ key: string; n: number }>(sql)
    .all(...params)
    .map((row) => ({ key: row.key, count: row.n }));
}

/** Matches of `term` alone through `from`, counted up to `SMALL + 1`. */
function probe(statements: StatementCache, from: string, term: QueryTerm): number {
  const sql = `SELECT count(*) AS n FROM (SELECT 1 FROM ${from} WHERE ${term.sql} LIMIT ?)`;
  return statements.get<{ n: number }>(sql).get(...term.params, SMALL + 1)?.n ?? 0;
}
