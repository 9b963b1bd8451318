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

export interface RunRow {
  id: string;
  type: string;
  version: string | null;
  status: string;
  input: Bytes;
  result: Bytes | null;
  error: string | null;
  failure_category: string | null;
  idempotency_key: string | null;
  created_at: number;
  updated_at: number;
  deadline: number | null;
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

const RUN_COLUMNS =
  'id, type, version, status, input, result, error, failure_category, idempotency_key, created_at, updated_at, deadline';
const JOURNAL_COLUMNS = 'run_id, seq, kind, name, ok, value, error, created_at';

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
      `INSERT INTO runs (${RUN_COLUMNS}) VALUES ($id, $type, $version, $status, $input, $result, $error,
        $failureCategory, $idempotencyKey, $createdAt, $updatedAt, $deadline)`,
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
  };
  return statements;
}

export function finalizeStatements(statements: SQLiteStatements): void {
  for (const statement of Object.values(statements) as Statement[]) statement.finalize();
}
