/**
 * The errors only `SQLiteStorage` raises, each with a stable `code`.
 *
 * Trap it avoids: leaking `bun:sqlite`'s `SQLiteError` (codes like `SQLITE_NOTADB`) to callers, who
 * would then branch on one driver's spelling. Every refusal at open and every failed write arrives
 * as a `WeftError` whose code says what happened; the driver's error stays reachable as `cause`.
 */
import { WeftError } from '../../core/errors.ts';

/**
 * The file exists and is a SQLite database, but not one Weft created: it has tables and its
 * `application_id` is not Weft's. Weft refuses to migrate a stranger's database.
 *
 * @example
 * new SQLiteStorage('app-data.sqlite'); // throws code 'storage_not_weft_database'
 */
export class StorageNotWeftDatabaseError extends WeftError {
  constructor(path: string, applicationId: number) {
    super(
      'storage_not_weft_database',
      `'${path}' is a SQLite database that Weft did not create (application_id ${applicationId}); refusing to use it. Point Weft at a new file or an existing Weft database.`,
      { details: { path, applicationId } },
    );
  }
}

/**
 * The file is not a readable SQLite database (random bytes, a truncated header) or SQLite found
 * damaged pages while reading it.
 *
 * @example
 * new SQLiteStorage('garbage.bin'); // throws code 'storage_corrupt'
 */
export class StorageCorruptError extends WeftError {
  constructor(path: string, cause: unknown) {
    super('storage_corrupt', `'${path}' is not a valid SQLite database or is damaged: ${messageOf(cause)}`, {
      cause,
      details: { path },
    });
  }
}

/**
 * The database was written by a newer Weft whose schema this code does not know. Opening it anyway
 * could corrupt data the newer version relies on, so it is refused; upgrade Weft instead.
 *
 * @example
 * new SQLiteStorage('weft.db'); // throws code 'storage_schema_too_new' naming both versions
 */
export class StorageSchemaTooNewError extends WeftError {
  constructor(path: string, found: number, known: number) {
    super(
      'storage_schema_too_new',
      `'${path}' has schema version ${found}, but this version of Weft knows schema versions up to ${known}. Upgrade Weft to open it.`,
      { details: { path, found, known } },
    );
  }
}

/**
 * Another live `SQLiteStorage` (in this process or another) owns the database. One engine process
 * per SQLite file: several processes over one database is the Postgres adapter's job.
 *
 * @example
 * new SQLiteStorage('weft.db'); // while another engine has it open: code 'storage_locked'
 */
export class StorageLockedError extends WeftError {
  constructor(path: string, ownerPid: number | undefined) {
    const owner = ownerPid === undefined ? 'another process' : `process ${ownerPid}`;
    super(
      'storage_locked',
      `'${path}' is in use by ${owner}: only one engine may own a SQLite database at a time. Stop that process or use another file.`,
      { details: { path, ownerPid: ownerPid ?? null } },
    );
  }
}

/**
 * The database could not be opened for a reason other than the ones above: a missing directory,
 * no permission, a file system without the shared memory WAL mode needs.
 *
 * @example
 * new SQLiteStorage('/no/such/dir/weft.db'); // throws code 'storage_open_failed'
 */
export class StorageOpenFailedError extends WeftError {
  constructor(path: string, cause: unknown) {
    super('storage_open_failed', `Cannot open '${path}': ${messageOf(cause)}`, { cause, details: { path } });
  }
}

/**
 * A write failed inside SQLite (disk full, I/O error, a value over SQLite's size limits). Nothing of
 * the commit was applied. Retryable: the same commit may succeed once the cause is gone.
 *
 * @example
 * await storage.commit(mutations); // on a full disk: rejects with code 'storage_write_failed'
 */
export class StorageWriteFailedError extends WeftError {
  constructor(cause: unknown) {
    super('storage_write_failed', `The storage write failed and nothing of it was committed: ${messageOf(cause)}`, {
      cause,
      retryable: true,
      details: { sqliteCode: sqliteCodeOf(cause) ?? null },
    });
  }
}

/** The `SQLITE_*` code of a `bun:sqlite` error, or undefined for anything else. */
export function sqliteCodeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/** Whether SQLite says the file is not a database or is damaged. */
export function isCorruption(error: unknown): boolean {
  const code = sqliteCodeOf(error);
  return code !== undefined && (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
