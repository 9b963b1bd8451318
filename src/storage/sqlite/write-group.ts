/**
 * Writes one group of commits as one SQLite transaction; when one of them fails, each commit of the
 * group is written in its own savepoint so that only the failing one is rolled back.
 *
 * Traps it avoids:
 * - One bad commit sinking its neighbours. A commit that conflicts (a taken run id, a consumed
 *   signal) rolls back to its savepoint; only that commit fails, the others of the group commit.
 * - Believing a transaction SQLite has already abandoned. After SQLITE_FULL, SQLITE_IOERR and a few
 *   others SQLite may roll back the whole transaction by itself, savepoints released earlier
 *   included. `db.inTransaction` is checked after every failure: if the transaction is gone, the
 *   whole group fails, because commits written before the error were lost with it.
 * - Counting a failed COMMIT as committed. A COMMIT that throws (disk full, I/O error) fails every
 *   commit of the group; if SQLite left the transaction open it is rolled back, so nothing of the
 *   group is visible afterwards.
 */
import type { Database } from 'bun:sqlite';
import { WeftError } from '../../core/errors.ts';
import type { BoundMutation } from './bound-mutation.ts';
import { applyBoundMutation } from './bound-mutation.ts';
import { isCorruption, StorageCorruptError, StorageWriteFailedError } from './sqlite-errors.ts';
import type { SQLiteStatements } from './sqlite-statements.ts';

/**
 * Returns, per batch, its own failure or undefined once the transaction committed; throws (a
 * `WeftError`) when the transaction as a whole failed and nothing of the group was committed.
 *
 * Optimistic: the group is first written without savepoints (each costs a sub-journal entry per
 * page it touches, about 15% of a commit's time). Only when a batch fails is the transaction rolled
 * back and the group written again, each batch in its own savepoint, to find out who failed.
 */
export function writeGroup(
  db: Database,
  statements: SQLiteStatements,
  path: string,
  batches: readonly (readonly BoundMutation[])[],
): (Error | undefined)[] {
  let failure: { error: unknown } | undefined;
  try {
    statements.begin.run();
    for (const batch of batches) {
      try {
        for (const mutation of batch) applyBoundMutation(statements, mutation);
      } catch (error) {
        failure = { error };
        break;
      }
    }
    if (failure === undefined) {
      statements.commit.run();
      return batches.map(() => undefined);
    }
  } catch (error) {
    rollbackQuietly(db, statements);
    throw writeError(path, error);
  }
  rollbackQuietly(db, statements);
  // Alone in its group, the failing batch is the whole transaction: no need to write it again.
  if (batches.length === 1) return [batchError(path, failure.error)];
  return writeWithSavepoints(db, statements, path, batches);
}

function writeWithSavepoints(
  db: Database,
  statements: SQLiteStatements,
  path: string,
  batches: readonly (readonly BoundMutation[])[],
): (Error | undefined)[] {
  const failures: (Error | undefined)[] = batches.map(() => undefined);
  try {
    statements.begin.run();
    batches.forEach((batch, index) => {
      statements.savepoint.run();
      try {
        for (const mutation of batch) applyBoundMutation(statements, mutation);
        statements.release.run();
      } catch (error) {
        // SQLite abandoned the whole transaction: what earlier batches wrote is gone too.
        if (!db.inTransaction) throw error;
        statements.rollbackToSavepoint.run();
        statements.release.run();
        failures[index] = batchError(path, error);
      }
    });
    statements.commit.run();
  } catch (error) {
    rollbackQuietly(db, statements);
    throw writeError(path, error);
  }
  return failures;
}

/** A contract conflict stays as it is; anything else SQLite threw becomes a storage error. */
function batchError(path: string, error: unknown): Error {
  return error instanceof WeftError ? error : writeError(path, error);
}

/** The error that matters is the one that made us roll back; a failing ROLLBACK adds nothing to it. */
function rollbackQuietly(db: Database, statements: SQLiteStatements): void {
  try {
    if (db.inTransaction) statements.rollback.run();
  } catch {
    // SQLite rolls back an unfinished transaction itself when the connection closes.
  }
}

function writeError(path: string, error: unknown): WeftError {
  if (error instanceof WeftError) return error;
  return isCorruption(error) ? new StorageCorruptError(path, error) : new StorageWriteFailedError(error);
}
