/**
 * The single-owner lock: one engine process per SQLite database.
 *
 * The lock is an operating-system file lock on `<path>.lock`, taken through SQLite itself: the
 * owner opens that (empty) file as a second SQLite database and holds `BEGIN EXCLUSIVE` on it until
 * `close()`. SQLite uses `fcntl` byte-range locks on Unix and `LockFileEx` on Windows; the kernel
 * drops them when the process dies, however it dies.
 *
 * Traps it avoids:
 * - Pid files that lie. A "lock file holding a pid" is stale after a crash and must be judged by
 *   whether the pid is alive, which is wrong after pid reuse (containers restart as pid 1) and
 *   meaningless across pid namespaces sharing a volume. A kernel lock has neither problem, and a
 *   lock left by a killed process never blocks a restart.
 * - Racing takeovers. Nobody ever deletes or rewrites the lock file, so two processes can never both
 *   "clean up a stale lock" and both win.
 * - A lock that lapses with garbage. `bun:sqlite` closes a `Database` when the garbage collector
 *   finalizes it, and closing the lock connection drops the kernel lock. An owner whose storage
 *   object became unreachable without `close()` (a script that opens, writes, then only idles)
 *   would silently hand the file to the next process while it still lives. Held lock connections
 *   are therefore pinned in a module-level set until `release()`: only `release()` or the death of
 *   the process ends a lock.
 * - A refusal that names nobody. The owner writes its pid into the main database (`meta` row
 *   'owner') after taking the lock; a refused opener reads it from there to say who holds the file.
 *   It is information only: the kernel lock alone decides.
 *
 * Never open `<path>.lock` with anything but SQLite inside an engine process: closing any other file
 * descriptor to it would drop the process's `fcntl` locks on it (a POSIX rule SQLite works around
 * only for its own connections).
 */
import { Database } from 'bun:sqlite';
import { hostname } from 'node:os';
import { sqliteCodeOf, StorageLockedError, StorageOpenFailedError } from './sqlite-errors.ts';

export interface OwnerLock {
  /** Drops the lock; calling it again does nothing. */
  release(): void;
}

/** What the owner of a database records about itself in the `meta` table. */
export interface OwnerRecord {
  pid: number;
  hostname: string;
  /** Epoch ms when it took the lock. */
  since: number;
}

export const OWNER_META_KEY = 'owner';

/** Every lock connection this process holds, kept reachable so the collector never closes one. */
const heldLocks = new Set<Database>();

export function lockPathOf(path: string): string {
  return `${path}.lock`;
}

/** Takes the lock on `path` or throws `StorageLockedError` naming the owner's pid when it is known. */
export function acquireOwnerLock(path: string): OwnerLock {
  const lockPath = lockPathOf(path);
  let lock: Database;
  try {
    lock = new Database(lockPath, { create: true, readwrite: true });
  } catch (error) {
    throw new StorageOpenFailedError(lockPath, error);
  }
  try {
    // Fail at once instead of waiting: a held lock is held by a live process.
    lock.run('PRAGMA busy_timeout = 0');
    lock.run('BEGIN EXCLUSIVE');
  } catch (error) {
    lock.close();
    if (sqliteCodeOf(error)?.startsWith('SQLITE_BUSY')) throw new StorageLockedError(path, readOwner(path)?.pid);
    throw new StorageOpenFailedError(
      lockPath,
      sqliteCodeOf(error) === 'SQLITE_NOTADB'
        ? new Error('the lock file is not one Weft wrote; delete it if no Weft process uses this database')
        : error,
    );
  }
  heldLocks.add(lock);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      heldLocks.delete(lock);
      // Closing the connection ends its transaction and with it the kernel lock.
      lock.close();
    },
  };
}

/** The owner record to store once the lock is held. */
export function ownerRecordOfThisProcess(): OwnerRecord {
  return { pid: process.pid, hostname: hostname(), since: Date.now() };
}

/** Reads who owns `path` from its `meta` table; undefined when that cannot be told. */
export function readOwner(path: string): OwnerRecord | undefined {
  let db: Database | undefined;
  try {
    db = new Database(path, { readonly: true });
    const row = db.query('SELECT value FROM meta WHERE key = ?').get(OWNER_META_KEY) as { value: string } | null;
    if (!row) return undefined;
    const record = JSON.parse(row.value) as Partial<OwnerRecord>;
    return typeof record.pid === 'number' ? (record as OwnerRecord) : undefined;
  } catch {
    return undefined;
  } finally {
    db?.close();
  }
}
