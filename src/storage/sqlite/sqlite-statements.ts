/**
 * Every SQL statement `SQLiteStorage` runs after open, prepared once per connection and reused.
 *
 * Traps it avoids:
 * - Re-parsing SQL on the hot path. Statements are compiled when the storage opens; commits and
 *   reads only bind and step.
 * - Keeping the file open after `close()`. `bun:sqlite` releases a connection only once every
 *   statement prepared on it is finalized, so `finalizeStatements` runs before the database closes.
 * - A statement per patch shape. `updateRun` takes a `set*` flag per field, so one statement serves
 *   every `RunPatch`, including fields set back to NULL.
 */
import type { Database, Statement } from 'bun:sqlite';

type Bytes = Uint8Array;

/** Parameters are named (`$id`) and bound from objects without the `$` (the database is `strict`). */
export type RunParams = {
  id: string;
  type: string;
  version: string | null;
  status: string;
  input: Bytes;
  result: Bytes | null;
  error: string | null;
  failureCategory: string | null;
  idempotencyKey: string | null;
  createdAt: number;
  updatedAt: number;
  deadline: number | null;
  parentId: string | null;
};

export type UpdateRunParams = {
  id: string;
  setStatus: boolean;
  status: string | null;
  setResult: boolean;
  result: Bytes | null;
  setError: boolean;
  error: string | null;
  setFailureCategory: boolean;
  failureCategory: string | null;
  setUpdatedAt: boolean;
  updatedAt: number | null;
};

export type JournalParams = {
  runId: string;
  seq: number;
  kind: string;
  name: string;
  ok: boolean;
  value: Bytes | null;
  error: string | null;
  createdAt: number;
};

export type TimerParams = { runId: string; key: string; fireAt: number };
export type InboxParams = { runId: string; name: string; payload: Bytes; createdAt: number };
export type AttributeParams = { runId: string; key: string; kind: string; value: string | number };
export type AttributeKeyParams = { runId: string; key: string };

export type UpdateParams = {
  id: string;
  runId: string;
  name: string;
  idempotencyKey: string | null;
  status: string;
  result: Bytes | null;
  error: string | null;
  createdAt: number;
  completedAt: number | null;
};

export type EventParams = { seq: number; type: string; runId: string | null; at: number; data: Bytes | null };
export type WatchParams = { runId: string; seq: number; type: string; status: string; at: number; data: Bytes | null };
export type ChunkParams = { runId: string; seq: number; at: number; data: Bytes };
/** A page of a per-run or global log: rows after `afterSeq`, at most `limit` (-1: no limit). */
export type SeqPageParams = { afterSeq: number; limit: number };

/** A run without its payloads, as listings read it. */
export interface RunSummaryRow {
  id: string;
  type: string;
  version: string | null;
  status: string;
  failure_category: string | null;
  idempotency_key: string | null;
  parent_id: string | null;
  created_at: number;
  updated_at: number;
  deadline: number | null;
}

export interface RunRow extends RunSummaryRow {
  error: string | null;
  input: Bytes;
  result: Bytes | null;
}

export interface JournalRow {
  run_id: string;
  seq: number;
  kind: string;
  name: string;
  ok: number;
  value: Bytes | null;
  error: string | null;
  created_at: number;
}

export interface TimerRow {
  run_id: string;
  key: string;
  fire_at: number;
}

export interface InboxRow {
  id: number;
  run_id: string;
  name: string;
  payload: Bytes;
  created_at: number;
}

export interface AttributeRow {
  key: string;
  kind: string;
  value: string | number;
}

export interface UpdateRow {
  id: string;
  run_id: string;
  name: string;
  idempotency_key: string | null;
  status: string;
  result: Bytes | null;
  error: string | null;
  created_at: number;
  completed_at: number | null;
}

export interface EventRow {
  seq: number;
  type: string;
  run_id: string | null;
  at: number;
  data: Bytes | null;
}

export interface WatchRow {
  run_id: string;
  seq: number;
  type: string;
  status: string;
  at: number;
  data: Bytes | null;
}

export interface ChunkRow {
  run_id: string;
  seq: number;
  at: number;
  data: Bytes;
}

/** The columns of `RunSummaryRow`, in table order; `run-query.ts` selects them with a table alias. */
export const RUN_SUMMARY_COLUMNS = [
  'id',
  'type',
  'version',
  'status',
  'failure_category',
  'idempotency_key',
  'parent_id',
  'created_at',
  'updated_at',
  'deadline',
] as const;
const RUN_COLUMNS = `${RUN_SUMMARY_COLUMNS.join(', ')}, error, input, result`;
const JOURNAL_COLUMNS = 'run_id, seq, kind, name, ok, value, error, created_at';
const UPDATE_COLUMNS = 'id, run_id, name, idempotency_key, status, result, error, created_at, completed_at';

/** All statements of one connection. */
export type SQLiteStatements = ReturnType<typeof prepareStatements>;

export function prepareStatements(db: Database) {
  const statements = {
    // Transaction control: a group of commits is one transaction, each commit one savepoint in it.
    begin: db.prepare<never, []>('BEGIN IMMEDIATE'),
    commit: db.prepare<never, []>('COMMIT'),
    rollback: db.prepare<never, []>('ROLLBACK'),
    savepoint: db.prepare<never, []>('SAVEPOINT weft_commit'),
    release: db.prepare<never, []>('RELEASE weft_commit'),
    rollbackToSavepoint: db.prepare<never, []>('ROLLBACK TO weft_commit'),

    insertRun: db.prepare<never, [RunParams]>(
      `INSERT INTO runs (${RUN_COLUMNS}) VALUES ($id, $type, $version, $status, $failureCategory, $idempotencyKey,
        $parentId, $createdAt, $updatedAt, $deadline, $error, $input, $result)`,
    ),
    updateRun: db.prepare<never, [UpdateRunParams]>(
      `UPDATE runs SET
        status = CASE WHEN $setStatus THEN $status ELSE status END,
        result = CASE WHEN $setResult THEN $result ELSE result END,
        error = CASE WHEN $setError THEN $error ELSE error END,
        failure_category = CASE WHEN $setFailureCategory THEN $failureCategory ELSE failure_category END,
        updated_at = CASE WHEN $setUpdatedAt THEN $updatedAt ELSE updated_at END
      WHERE id = $id`,
    ),
    deleteRun: db.prepare<never, [{ id: string }]>('DELETE FROM runs WHERE id = $id'),
    deleteRunJournal: db.prepare<never, [{ runId: string }]>('DELETE FROM journal WHERE run_id = $runId'),
    deleteRunInbox: db.prepare<never, [{ runId: string }]>('DELETE FROM inbox WHERE run_id = $runId'),
    deleteRunTimers: db.prepare<never, [{ runId: string }]>('DELETE FROM timers WHERE run_id = $runId'),
    deleteRunAttributes: db.prepare<never, [{ runId: string }]>('DELETE FROM attributes WHERE run_id = $runId'),
    deleteRunUpdates: db.prepare<never, [{ runId: string }]>('DELETE FROM updates WHERE run_id = $runId'),
    deleteRunWatch: db.prepare<never, [{ runId: string }]>('DELETE FROM watch_frames WHERE run_id = $runId'),
    deleteRunChunks: db.prepare<never, [{ runId: string }]>('DELETE FROM stream_chunks WHERE run_id = $runId'),
    insertJournal: db.prepare<never, [JournalParams]>(
      `INSERT INTO journal (${JOURNAL_COLUMNS}) VALUES ($runId, $seq, $kind, $name, $ok, $value, $error, $createdAt)`,
    ),
    putTimer: db.prepare<never, [TimerParams]>(
      `INSERT INTO timers (run_id, key, fire_at) VALUES ($runId, $key, $fireAt)
       ON CONFLICT (run_id, key) DO UPDATE SET fire_at = excluded.fire_at`,
    ),
    deleteTimer: db.prepare<never, [{ runId: string; key: string }]>(
      'DELETE FROM timers WHERE run_id = $runId AND key = $key',
    ),
    insertInbox: db.prepare<never, [InboxParams]>(
      'INSERT INTO inbox (run_id, name, payload, created_at) VALUES ($runId, $name, $payload, $createdAt)',
    ),
    deleteInbox: db.prepare<never, [{ id: number }]>('DELETE FROM inbox WHERE id = $id'),
    putAttribute: db.prepare<never, [AttributeParams]>(
      `INSERT INTO attributes (run_id, key, kind, value) VALUES ($runId, $key, $kind, $value)
       ON CONFLICT (run_id, key) DO UPDATE SET kind = excluded.kind, value = excluded.value`,
    ),
    deleteAttribute: db.prepare<never, [AttributeKeyParams]>(
      'DELETE FROM attributes WHERE run_id = $runId AND key = $key',
    ),
    // Replaces by id; a key held by another update of the run fails on updates_by_run_key.
    putUpdate: db.prepare<never, [UpdateParams]>(
      `INSERT INTO updates (${UPDATE_COLUMNS}) VALUES ($id, $runId, $name, $idempotencyKey, $status, $result, $error,
        $createdAt, $completedAt)
       ON CONFLICT (id) DO UPDATE SET run_id = excluded.run_id, name = excluded.name,
        idempotency_key = excluded.idempotency_key, status = excluded.status, result = excluded.result,
        error = excluded.error, created_at = excluded.created_at, completed_at = excluded.completed_at`,
    ),
    // The three appends below report a taken seq as "no row changed" instead of a thrown constraint error.
    insertEvent: db.prepare<never, [EventParams]>(
      `INSERT INTO events (seq, type, run_id, at, data) VALUES ($seq, $type, $runId, $at, $data)
       ON CONFLICT DO NOTHING`,
    ),
    pruneEvents: db.prepare<never, [{ throughSeq: number }]>('DELETE FROM events WHERE seq <= $throughSeq'),
    insertWatch: db.prepare<never, [WatchParams]>(
      `INSERT INTO watch_frames (run_id, seq, type, status, at, data) VALUES ($runId, $seq, $type, $status, $at, $data)
       ON CONFLICT DO NOTHING`,
    ),
    insertChunk: db.prepare<never, [ChunkParams]>(
      `INSERT INTO stream_chunks (run_id, seq, at, data) VALUES ($runId, $seq, $at, $data)
       ON CONFLICT DO NOTHING`,
    ),

    selectRun: db.prepare<RunRow, [{ id: string }]>(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = $id`),
    selectRunIdByKey: db.prepare<{ id: string }, [{ key: string }]>('SELECT id FROM runs WHERE idempotency_key = $key'),
    selectRunByKey: db.prepare<RunRow, [{ key: string }]>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE idempotency_key = $key`,
    ),
    // The statuses arrive as one JSON array so a single statement serves any number of them.
    selectRunsByStatus: db.prepare<RunRow, [{ statuses: string }]>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE status IN (SELECT value FROM json_each($statuses))
       ORDER BY created_at, id`,
    ),
    selectJournal: db.prepare<JournalRow, [{ runId: string }]>(
      `SELECT ${JOURNAL_COLUMNS} FROM journal WHERE run_id = $runId ORDER BY seq`,
    ),
    // `dueBy` is +Infinity and `limit` -1 (no limit) when the caller gives none.
    selectTimers: db.prepare<TimerRow, [{ dueBy: number; limit: number }]>(
      `SELECT run_id, key, fire_at FROM timers WHERE fire_at <= $dueBy ORDER BY fire_at, run_id, key LIMIT $limit`,
    ),
    selectRunTimers: db.prepare<TimerRow, [{ runId: string }]>(
      'SELECT run_id, key, fire_at FROM timers WHERE run_id = $runId ORDER BY fire_at, run_id, key',
    ),
    selectOldestSignal: db.prepare<InboxRow, [{ runId: string; name: string }]>(
      `SELECT id, run_id, name, payload, created_at FROM inbox WHERE run_id = $runId AND name = $name
       ORDER BY id LIMIT 1`,
    ),
    // Served by inbox_by_run_name, whose run_id prefix is already in order.
    selectSignalledRunIds: db.prepare<{ run_id: string }, []>('SELECT DISTINCT run_id FROM inbox ORDER BY run_id'),
    selectAttributes: db.prepare<AttributeRow, [{ runId: string }]>(
      'SELECT key, kind, value FROM attributes WHERE run_id = $runId ORDER BY key',
    ),
    selectUpdate: db.prepare<UpdateRow, [{ id: string }]>(`SELECT ${UPDATE_COLUMNS} FROM updates WHERE id = $id`),
    selectUpdateByKey: db.prepare<UpdateRow, [{ runId: string; key: string }]>(
      `SELECT ${UPDATE_COLUMNS} FROM updates WHERE run_id = $runId AND idempotency_key = $key`,
    ),
    // Served in order by the partial index updates_pending.
    selectPendingUpdates: db.prepare<UpdateRow, []>(
      `SELECT ${UPDATE_COLUMNS} FROM updates WHERE status = 'pending' ORDER BY created_at, id`,
    ),
    selectEvents: db.prepare<EventRow, [SeqPageParams]>(
      'SELECT seq, type, run_id, at, data FROM events WHERE seq > $afterSeq ORDER BY seq LIMIT $limit',
    ),
    selectLastEventSeq: db.prepare<{ seq: number }, []>('SELECT coalesce(max(seq), 0) AS seq FROM events'),
    selectWatch: db.prepare<WatchRow, [SeqPageParams & { runId: string }]>(
      `SELECT run_id, seq, type, status, at, data FROM watch_frames WHERE run_id = $runId AND seq > $afterSeq
       ORDER BY seq LIMIT $limit`,
    ),
    selectChunks: db.prepare<ChunkRow, [SeqPageParams & { runId: string }]>(
      `SELECT run_id, seq, at, data FROM stream_chunks WHERE run_id = $runId AND seq > $afterSeq
       ORDER BY seq LIMIT $limit`,
    ),
    // Each max() is one descent of a primary key, not a scan of the run's rows.
    selectRunTails: db.prepare<{ watch: number; chunk: number }, [{ runId: string }]>(
      `SELECT coalesce((SELECT max(seq) FROM watch_frames WHERE run_id = $runId), 0) AS watch,
        coalesce((SELECT max(seq) FROM stream_chunks WHERE run_id = $runId), 0) AS chunk`,
    ),
  };
  return statements;
}

/**
 * A caller's row limit as a LIMIT value: SQLite reads a negative LIMIT as "no limit", but a caller's
 * negative (or NaN) limit means no rows at all; Infinity means no limit (-1).
 */
export function sqlLimit(limit: number): number {
  if (limit === Number.POSITIVE_INFINITY) return -1;
  return Math.max(0, Math.floor(limit) || 0);
}

export function finalizeStatements(statements: SQLiteStatements): void {
  for (const statement of Object.values(statements) as Statement[]) statement.finalize();
}
