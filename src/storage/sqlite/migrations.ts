/**
 * The SQLite schema as an ordered list of migrations, and the checks that run before any of them.
 *
 * Traps it avoids:
 * - Migrating a stranger's database. A file with tables whose `application_id` is not Weft's is
 *   refused before anything is written to it (not even the journal mode is changed).
 * - Downgrades. A database whose `user_version` is newer than the last migration here was written by
 *   a newer Weft; it is refused instead of being read with a schema this code does not understand.
 * - Half-applied upgrades. All pending migrations, the new `user_version` and the `application_id`
 *   are written in one transaction: a crash mid-way leaves the old version intact.
 *
 * Policy: a released migration is never edited; a schema change appends a new one.
 */
import type { Database } from 'bun:sqlite';
import {
  isCorruption,
  StorageCorruptError,
  StorageNotWeftDatabaseError,
  StorageSchemaTooNewError,
} from './sqlite-errors.ts';

/** 'WEFT' in ASCII, stored in the database header (`PRAGMA application_id`) to mark Weft's files. */
export const WEFT_APPLICATION_ID = 0x57_45_46_54;

export interface Migration {
  /** The `user_version` the database has once this migration is applied; 1, 2, 3, ... */
  version: number;
  description: string;
  statements: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'runs, journal, timers, inbox and meta tables',
    statements: [
      `CREATE TABLE runs (
        id TEXT NOT NULL PRIMARY KEY,
        type TEXT NOT NULL,
        version TEXT,
        status TEXT NOT NULL,
        input BLOB NOT NULL,
        result BLOB,
        error TEXT,
        failure_category TEXT,
        idempotency_key TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        deadline INTEGER
      )`,
      // Serves `listRunsByStatus` in its final order for one status.
      'CREATE INDEX runs_by_status ON runs (status, created_at, id)',
      // Partial: most runs have no key, and a NULL entry per run would cost every start a b-tree insert.
      'CREATE UNIQUE INDEX runs_by_idempotency_key ON runs (idempotency_key) WHERE idempotency_key IS NOT NULL',
      `CREATE TABLE journal (
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        ok INTEGER NOT NULL,
        value BLOB,
        error TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (run_id, seq)
      ) WITHOUT ROWID`,
      `CREATE TABLE timers (
        run_id TEXT NOT NULL,
        key TEXT NOT NULL,
        fire_at INTEGER NOT NULL,
        PRIMARY KEY (run_id, key)
      ) WITHOUT ROWID`,
      // Serves `listTimers` in its final order, so a due-timer scan never sorts.
      'CREATE INDEX timers_by_fire_at ON timers (fire_at, run_id, key)',
      // AUTOINCREMENT: a consumed message's id is never handed out again, so ids only increase.
      `CREATE TABLE inbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL,
        name TEXT NOT NULL,
        payload BLOB NOT NULL,
        created_at INTEGER NOT NULL
      )`,
      'CREATE INDEX inbox_by_run_name ON inbox (run_id, name, id)',
      // Facts about the database itself, such as which process owns it.
      'CREATE TABLE meta (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID',
    ],
  },
  {
    version: 2,
    description: 'parent runs and listing indexes; attributes, updates, fleet events, watch frames, stream chunks',
    statements: [
      // Rebuilt rather than altered, to put the payloads last: a listing reads every column before
      // them, and a column stored after a BLOB that spills to overflow pages costs a walk of that
      // chain. With `error`, `input` and `result` at the end, summaries never touch overflow pages.
      `CREATE TABLE runs_v2 (
        id TEXT NOT NULL PRIMARY KEY,
        type TEXT NOT NULL,
        version TEXT,
        status TEXT NOT NULL,
        failure_category TEXT,
        idempotency_key TEXT,
        parent_id TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        deadline INTEGER,
        error TEXT,
        input BLOB NOT NULL,
        result BLOB
      )`,
      `INSERT INTO runs_v2 (id, type, version, status, failure_category, idempotency_key, parent_id, created_at,
        updated_at, deadline, error, input, result)
       SELECT id, type, version, status, failure_category, idempotency_key, NULL, created_at,
        updated_at, deadline, error, input, result
       FROM runs ORDER BY rowid`,
      'DROP TABLE runs',
      'ALTER TABLE runs_v2 RENAME TO runs',
      // v1's two indexes, under their old names (they went with the old table).
      'CREATE INDEX runs_by_status ON runs (status, created_at, id)',
      'CREATE UNIQUE INDEX runs_by_idempotency_key ON runs (idempotency_key) WHERE idempotency_key IS NOT NULL',
      // Listings are newest first (`created_at DESC, id DESC`): each index below is read backwards and
      // stops at the page's end, with the filter's equality column in front. Every run pays for the
      // first two on create; parents and failure categories are partial, so runs without them do not.
      'CREATE INDEX runs_by_created ON runs (created_at, id)',
      'CREATE INDEX runs_by_type ON runs (type, created_at, id)',
      'CREATE INDEX runs_by_parent ON runs (parent_id, created_at, id) WHERE parent_id IS NOT NULL',
      `CREATE INDEX runs_by_failure_category ON runs (failure_category, created_at, id)
       WHERE failure_category IS NOT NULL`,
      // `kind` keeps the value's type: 'b' (boolean, value 0/1), 'n' (number), 's' (string). `value` has
      // no declared type, hence BLOB affinity: SQLite stores what was bound and never turns '1' into 1.
      `CREATE TABLE attributes (
        run_id TEXT NOT NULL,
        key TEXT NOT NULL,
        kind TEXT NOT NULL,
        value NOT NULL,
        PRIMARY KEY (run_id, key)
      ) WITHOUT ROWID`,
      // Serves attribute equality filters (key, kind, value → runs) and grouping by an attribute in order.
      'CREATE INDEX attributes_by_value ON attributes (key, kind, value, run_id)',
      `CREATE TABLE updates (
        id TEXT NOT NULL PRIMARY KEY,
        run_id TEXT NOT NULL,
        name TEXT NOT NULL,
        idempotency_key TEXT,
        status TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        completed_at INTEGER,
        error TEXT,
        result BLOB
      )`,
      // Not partial: NULL keys never collide in a UNIQUE index (SQLite treats NULLs as distinct), and
      // the entries of keyless updates let this one index also serve deleteRun's cascade by run id.
      'CREATE UNIQUE INDEX updates_by_run_key ON updates (run_id, idempotency_key)',
      // Only pending updates are in it, in listPendingUpdates' order; completing one removes its entry.
      `CREATE INDEX updates_pending ON updates (created_at, id) WHERE status = 'pending'`,
      // The fleet event log: `seq` is the rowid, so an append is one insert at the b-tree's right edge
      // and pruning is a range delete. No other index: many commits carry an event.
      `CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        type TEXT NOT NULL,
        run_id TEXT,
        at INTEGER NOT NULL,
        data BLOB
      )`,
      `CREATE TABLE watch_frames (
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        status TEXT NOT NULL,
        at INTEGER NOT NULL,
        data BLOB,
        PRIMARY KEY (run_id, seq)
      ) WITHOUT ROWID`,
      `CREATE TABLE stream_chunks (
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (run_id, seq)
      ) WITHOUT ROWID`,
    ],
  },
  {
    version: 3,
    description: 'listing indexes for status + type, update and deadline ranges; run counts kept by triggers',
    statements: [
      // Chosen from query plans at 1,000,000 runs (docs/storage-sqlite.md, "Indexes and why each
      // exists"). Status and type together: without it, suspended tickets among 400,000 completed
      // ones were found by reading every ticket (99 ms); with it, one range read backwards.
      'CREATE INDEX runs_by_status_type ON runs (status, type, created_at, id)',
      // Ranges on updated_at and deadline had no index: a range matching nothing read every run.
      // The listing counts a range here (at most a few thousand entries) to choose its plan.
      'CREATE INDEX runs_by_updated ON runs (updated_at)',
      // Partial: the deadline never changes after create, and runs without one pay nothing.
      'CREATE INDEX runs_by_deadline ON runs (deadline) WHERE deadline IS NOT NULL',
      // How many runs each (status, type) has, kept by the triggers below inside the transaction that
      // changes `runs`, so the counts are exactly as durable as the runs. Aggregates by status or type
      // and the totals of status/type listings read these few rows instead of counting every run.
      // Rows that reach 0 stay (a status and type seen once usually comes back); readers skip them.
      `CREATE TABLE run_counts (
        status TEXT NOT NULL,
        type TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (status, type)
      ) WITHOUT ROWID`,
      'INSERT INTO run_counts (status, type, n) SELECT status, type, count(*) FROM runs GROUP BY status, type',
      `CREATE TRIGGER run_counts_insert AFTER INSERT ON runs BEGIN
        INSERT INTO run_counts (status, type, n) VALUES (new.status, new.type, 1)
          ON CONFLICT (status, type) DO UPDATE SET n = n + 1;
      END`,
      `CREATE TRIGGER run_counts_delete AFTER DELETE ON runs BEGIN
        UPDATE run_counts SET n = n - 1 WHERE status = old.status AND type = old.type;
      END`,
      // Only when the pair changes: most updates (result, updated_at) leave both as they were.
      `CREATE TRIGGER run_counts_update AFTER UPDATE OF status, type ON runs
        WHEN old.status IS NOT new.status OR old.type IS NOT new.type BEGIN
        UPDATE run_counts SET n = n - 1 WHERE status = old.status AND type = old.type;
        INSERT INTO run_counts (status, type, n) VALUES (new.status, new.type, 1)
          ON CONFLICT (status, type) DO UPDATE SET n = n + 1;
      END`,
    ],
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

/** What the header says about a database before anything is written to it. */
export interface DatabaseHeader {
  /** 0 for a new, empty file. */
  schemaVersion: number;
}

/**
 * Refuses a file that is corrupt, foreign or too new; read-only, so a refused file is left as it was.
 * Errors other than corruption propagate unchanged.
 */
export function checkDatabase(db: Database, path: string): DatabaseHeader {
  let applicationId: number;
  let schemaVersion: number;
  let objects: number;
  try {
    applicationId = pragmaNumber(db, 'application_id');
    schemaVersion = pragmaNumber(db, 'user_version');
    objects = (db.query('SELECT count(*) AS n FROM sqlite_schema').get() as { n: number }).n;
  } catch (error) {
    if (isCorruption(error)) throw new StorageCorruptError(path, error);
    throw error;
  }
  if (applicationId === WEFT_APPLICATION_ID) {
    if (schemaVersion > LATEST_SCHEMA_VERSION) {
      throw new StorageSchemaTooNewError(path, schemaVersion, LATEST_SCHEMA_VERSION);
    }
    return { schemaVersion };
  }
  // A new file: nothing in it yet, so it is ours to initialise.
  if (applicationId === 0 && objects === 0 && schemaVersion === 0) return { schemaVersion: 0 };
  throw new StorageNotWeftDatabaseError(path, applicationId);
}

/** Applies every migration newer than the database in one `BEGIN IMMEDIATE` transaction. */
export function migrate(db: Database, path: string, header: DatabaseHeader): void {
  if (header.schemaVersion === LATEST_SCHEMA_VERSION) return;
  db.run('BEGIN IMMEDIATE');
  try {
    // Read again under the write lock: the header check ran before it was taken.
    const current = pragmaNumber(db, 'user_version');
    if (current > LATEST_SCHEMA_VERSION) throw new StorageSchemaTooNewError(path, current, LATEST_SCHEMA_VERSION);
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      for (const statement of migration.statements) db.run(statement);
    }
    // PRAGMA arguments cannot be bound; both values are integers from this module.
    db.run(`PRAGMA application_id = ${WEFT_APPLICATION_ID}`);
    db.run(`PRAGMA user_version = ${LATEST_SCHEMA_VERSION}`);
    db.run('COMMIT');
  } catch (error) {
    if (db.inTransaction) db.run('ROLLBACK');
    throw error;
  }
}

function pragmaNumber(db: Database, name: 'application_id' | 'user_version'): number {
  const row = db.query(`PRAGMA ${name}`).get() as Record<string, number> | null;
  return row?.[name] ?? 0;
}
