/**
 * The reads that may run off the engine's thread, as one table of functions over a connection: the
 * read worker runs them on its own read-only connection, and `SQLiteStorage` runs the very same
 * functions inline when there is no worker (`':memory:'`, `readWorker: false`).
 *
 * Traps it avoids:
 * - Two copies of the SQL. The worker calls `run-query.ts` and the prepared statements of
 *   `sqlite-statements.ts` exactly as the inline path does, so a change to a query (an index, a
 *   new filter) reaches both at once and the conformance suite covers both.
 * - Reads that grow with the store stalling the writer. Only the reads whose cost grows with the
 *   number of runs or events are here (listings, aggregates, event pages); point reads by key
 *   (`getRun`, `getJournal`, ...) stay inline, where a round trip to a thread would cost more
 *   than the read.
 */
import type { EventRecord, ListRunsOptions, RunAggregate, RunGroupBy, RunPage, RunQuery } from '../storage.ts';
import { OWNER_META_KEY } from './owner-lock.ts';
import { aggregateRuns, listRuns } from './run-query.ts';
import { toEventRecord } from './sqlite-rows.ts';
import type { SQLiteStatements } from './sqlite-statements.ts';
import { sqlLimit } from './sqlite-statements.ts';
import type { StatementCache } from './statement-cache.ts';

/** What a read needs of a connection: its prepared statements and its cache for built SQL. */
export interface ReadConnection {
  readonly statements: SQLiteStatements;
  readonly queries: StatementCache;
}

export const READ_OPS = {
  /**
   * The owner record this process wrote at open: the same value on both connections proves the
   * worker opened the same database (not a namesake under another working directory or URI).
   */
  identity: (c: ReadConnection): string | null =>
    c.queries.get<{ value: string }>('SELECT value FROM meta WHERE key = ?').get(OWNER_META_KEY)?.value ?? null,
  listRuns: (c: ReadConnection, query: RunQuery, options: ListRunsOptions): RunPage =>
    listRuns(c.queries, query, options),
  aggregateRuns: (c: ReadConnection, groupBy: RunGroupBy, query: RunQuery, maxGroups: number): RunAggregate =>
    aggregateRuns(c.queries, groupBy, query, maxGroups),
  readEvents: (c: ReadConnection, afterSeq: number, limit: number): EventRecord[] =>
    c.statements.selectEvents.all({ afterSeq, limit: sqlLimit(limit) }).map(toEventRecord),
} as const;

export type ReadOp = keyof typeof READ_OPS;
/** The arguments of a read after its connection. */
export type ReadArgs<K extends ReadOp> =
  Parameters<(typeof READ_OPS)[K]> extends [ReadConnection, ...infer Rest] ? Rest : never;
export type ReadResult<K extends ReadOp> = ReturnType<(typeof READ_OPS)[K]>;

/** Runs one read of the table on `connection`, synchronously. */
export function runReadOp<K extends ReadOp>(connection: ReadConnection, op: K, args: ReadArgs<K>): ReadResult<K> {
  // TypeScript cannot correlate `op` with `args` through the table's union; the signature does.
  const read = READ_OPS[op] as unknown as (c: ReadConnection, ...rest: ReadArgs<K>) => ReadResult<K>;
  return read(connection, ...args);
}
