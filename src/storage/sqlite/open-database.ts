/**
 * Opens a Weft SQLite database: lock, checks, pragmas, migrations, owner record — in that order.
 *
 * Traps it avoids:
 * - Touching a file before knowing it is ours. The header checks run before any pragma that writes
 *   (`journal_mode = WAL` converts a database for good), so a refused file is left byte-for-byte.
 * - Migrating without the lock. The owner lock is taken first; two processes can never migrate the
 *   same file at once.
 * - Leaks on a failed open. Whatever was opened before the failure (connection, lock) is closed
 *   before the error propagates, so a refused open leaves no lock behind.
 */
import { Database } from 'bun:sqlite';
import { WeftError } from '../../core/errors.ts';
import { checkDatabase, migrate } from './migrations.ts';
import type { OwnerLock } from './owner-lock.ts';
import { acquireOwnerLock, OWNER_META_KEY, ownerRecordOfThisProcess } from './owner-lock.ts';
import { isCorruption, StorageCorruptError, StorageOpenFailedError } from './sqlite-errors.ts';

/**
 * What survives what. `normal`: a process crash loses nothing committed; a power loss or OS crash may
 * lose the last commits (never corrupts). `full`: neither loses a commit that resolved.
 */
export type SQLiteDurability = 'normal' | 'full';

export interface OpenedDatabase {
  db: Database;
  /** Null for an in-memory database, which no other process can reach. */
  lock: OwnerLock | null;
}

/** How long a statement waits for a lock held by another connection (a backup tool, the CLI). */
export const BUSY_TIMEOUT_MS = 5_000;
/** After a checkpoint the WAL file is truncated back to at most this size. */
export const JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

export function isMemoryPath(path: string): boolean {
  return path === ':memory:' || path === '';
}

export function openDatabase(path: string, durability: SQLiteDurability): OpenedDatabase {
  const inMemory = isMemoryPath(path);
  const lock = inMemory ? null : acquireOwnerLock(path);
  let db: Database | undefined;
  try {
    db = new Database(path, { create: true, readwrite: true, strict: true });
    db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const header = checkDatabase(db, path);
    configure(db, path, durability, inMemory);
    migrate(db, path, header);
    if (!inMemory) {
      db.query(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ).run(OWNER_META_KEY, JSON.stringify(ownerRecordOfThisProcess()));
    }
    return { db, lock };
  } catch (error) {
    db?.close();
    lock?.release();
    if (error instanceof WeftError) throw error;
    if (isCorruption(error)) throw new StorageCorruptError(path, error);
    throw new StorageOpenFailedError(path, error);
  }
}

function configure(db: Database, path: string, durability: SQLiteDurability, inMemory: boolean): void {
  if (!inMemory) {
    const mode = (db.query('PRAGMA journal_mode = WAL').get() as { journal_mode: string }).journal_mode;
    // The durability promises below hold for WAL only; refuse rather than silently run without it.
    if (mode !== 'wal') throw new StorageOpenFailedError(path, new Error(`journal_mode is '${mode}', not 'wal'`));
  }
  // In WAL mode NORMAL syncs at checkpoints only (process-crash safe); FULL syncs the WAL at every COMMIT.
  db.run(`PRAGMA synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
  if (durability === 'full') {
    // macOS: a plain fsync does not reach the platter; F_FULLFSYNC does. No effect elsewhere.
    db.run('PRAGMA fullfsync = ON');
    db.run('PRAGMA checkpoint_fullfsync = ON');
  }
  // Rows of a run are deliberately not checked against the run (storage contract).
  db.run('PRAGMA foreign_keys = OFF');
  db.run(`PRAGMA journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
  // Each commit of a group is a savepoint, whose undo pages go to a sub-journal: in a temp file by
  // default, which made savepoints cost 2-3x the inserts they wrap. In memory they are nearly free.
  db.run('PRAGMA temp_store = MEMORY');
}
