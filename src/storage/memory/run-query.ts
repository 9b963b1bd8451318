/**
 * Which runs a `RunQuery` matches, and one newest-first page of them, for the memory adapter.
 * Matching passes over runs (fine in memory) but starts from the narrowest index at hand: the run
 * set of the query's first attribute, else the status sets, else every run.
 *
 * Traps it avoids:
 * - An empty list read as "no filter". `statuses: []` is an OR over nothing and matches no run,
 *   as `listRunsByStatus([])` returns none.
 * - Inclusive or null-friendly ranges. Every bound is exclusive, and a deadline bound never
 *   matches a run without a deadline.
 * - A prefix read as a pattern. `idPrefix` is compared code unit by code unit, so `_`, `%` and case
 *   mean themselves.
 * - Locale-dependent order. Ties on `createdAt` break on binary id order, in the sort and in the
 *   keyset (`after`) alike, so a cursor page starts exactly where the previous one ended.
 */
import type { ListRunsOptions, RunPage, RunQuery, RunRecord, RunStatus } from '../storage.ts';
import { boundedTotal } from '../storage.ts';
import type { AttributeIndex } from './attribute-index.ts';
import { compareStrings, firstIndex } from './ordering.ts';
import { copySummary } from './record-copies.ts';

/** The indexes matching reads from; the records are the stored ones and never leave uncopied. */
export interface RunSource {
  runs: ReadonlyMap<string, RunRecord>;
  idsByStatus: ReadonlyMap<RunStatus, ReadonlySet<string>>;
  attributes: AttributeIndex;
}

/** The stored runs matching `query`, in no particular order. */
export function matchRuns(source: RunSource, query: RunQuery): RunRecord[] {
  const attributes = Object.entries(query.attributes ?? {});
  const matches = (run: RunRecord): boolean =>
    matchesFields(run, query) &&
    // `===` compares the type too: `1` is not `'1'` or `true`.
    attributes.every(([name, value]) => source.attributes.valueOf(run.id, name) === value);
  const found: RunRecord[] = [];
  for (const id of candidateIds(source, query)) {
    const run = source.runs.get(id);
    if (run && matches(run)) found.push(run);
  }
  return found;
}

/**
 * Copies of the `options` window of `runs`, newest first, with the total before the window — bounded
 * by the same rule as SQLite's (`RunPage`), although counting here is free, so that a query says the
 * same on every adapter. `exactAlways` for queries on statuses and types alone.
 */
export function runPage(runs: RunRecord[], options: ListRunsOptions, exactAlways: boolean): RunPage {
  const offset = Math.max(0, Math.floor(options.offset ?? 0));
  const limit = Math.max(0, Math.floor(options.limit));
  runs.sort((a, b) => b.createdAt - a.createdAt || compareStrings(b.id, a.id));
  const after = options.after;
  // The first run past the key: the keyset is a position in the sorted matches, found by bisection.
  const start =
    after === undefined
      ? 0
      : firstIndex(
          runs,
          (run) => run.createdAt < after.createdAt || (run.createdAt === after.createdAt && run.id < after.id),
        );
  const page = runs.slice(start + offset, start + offset + limit).map(copySummary);
  return { runs: page, ...boundedTotal(runs.length, exactAlways, offset, page.length) };
}

function candidateIds(source: RunSource, query: RunQuery): Iterable<string> {
  const [first] = Object.entries(query.attributes ?? {});
  if (first) return source.attributes.runsWith(first[0], first[1]);
  if (query.statuses) return new Set(query.statuses).values().flatMap((status) => source.idsByStatus.get(status) ?? []);
  return source.runs.keys();
}

function matchesFields(run: RunRecord, query: RunQuery): boolean {
  return (
    (query.statuses === undefined || query.statuses.includes(run.status)) &&
    (query.types === undefined || query.types.includes(run.type)) &&
    (query.idPrefix === undefined || run.id.startsWith(query.idPrefix)) &&
    (query.failureCategories === undefined ||
      (run.failureCategory !== null && query.failureCategories.includes(run.failureCategory))) &&
    (query.parentId === undefined || run.parentId === query.parentId) &&
    within(run.createdAt, query.createdAfter, query.createdBefore) &&
    within(run.updatedAt, query.updatedAfter, query.updatedBefore) &&
    (run.deadline === null
      ? query.deadlineAfter === undefined && query.deadlineBefore === undefined
      : within(run.deadline, query.deadlineAfter, query.deadlineBefore))
  );
}

function within(value: number, after: number | undefined, before: number | undefined): boolean {
  return (after === undefined || value > after) && (before === undefined || value < before);
}
