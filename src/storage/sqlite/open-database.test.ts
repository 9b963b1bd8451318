/** What opening a file does: the pragmas a Weft database runs with, and the files it refuses. */
import { Database } from 'bun:sqlite';
import { afterAll, describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, WEFT_APPLICATION_ID } from './migrations.ts';
import { openDatabase } from './open-database.ts';
import {
  StorageCorruptError,
  StorageNotWeftDatabaseError,
  StorageOpenFailedError,
  StorageSchemaTooNewError,
} from './sqlite-errors.ts';
import { SQLiteStorage } from './sqlite-storage.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-sqlite-open-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newPath = (): string => join(dir, `db-${++files}.db`);

function pragma(db: Database, name: string): unknown {
  return Object.values(db.query(`PRAGMA ${name}`).get() as Record<string, unknown>)[0];
}

function thrownBy(open: () => unknown): unknown {
  try {
    open();
  } catch (error) {
    return error;
  }
  throw new Error('Expected opening to throw');
}

describe('opening a SQLite database', () => {
  test('a new file runs in WAL mode with foreign keys off and the Weft application id and schema version', () => {
    const { db, lock } = openDatabase(newPath(), 'normal');
    expect(pragma(db, 'journal_mode')).toBe('wal');
    expect(pragma(db, 'synchronous')).toBe(1);
    expect(pragma(db, 'foreign_keys')).toBe(0);
    expect(pragma(db, 'busy_timeout')).toBeGreaterThan(0);
    expect(pragma(db, 'application_id')).toBe(WEFT_APPLICATION_ID);
    expect(pragma(db, 'user_version')).toBe(LATEST_SCHEMA_VERSION);
    db.close();
    lock?.release();
  });

  test("durability 'full' sets synchronous to FULL", () => {
    const { db, lock } = openDatabase(newPath(), 'full');
    expect(pragma(db, 'synchronous')).toBe(2);
    db.close();
    lock?.release();
  });

  test('an unknown durability is refused with invalid_argument', () => {
    const options = { path: newPath(), durability: 'fast' } as unknown as ConstructorParameters<
      typeof SQLiteStorage
    >[0];
    expect(thrownBy(() => new SQLiteStorage(options))).toMatchObject({ code: 'invalid_argument' });
  });

  test('migrations are numbered 1, 2, 3 and so on, in order', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(LATEST_SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  test('an existing empty file becomes a Weft database', async () => {
    const path = newPath();
    writeFileSync(path, '');
    await using storage = new SQLiteStorage(path);
    expect(await storage.getRun('r1')).toBeUndefined();
  });

  test('a SQLite file that Weft did not create is refused with storage_not_weft_database and left unchanged', () => {
    const path = newPath();
    const other = new Database(path);
    other.run('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)');
    other.close();
    const before = readFileSync(path);
    const error = thrownBy(() => new SQLiteStorage(path));
    expect(error).toBeInstanceOf(StorageNotWeftDatabaseError);
    expect(error).toMatchObject({ code: 'storage_not_weft_database', details: { path, applicationId: 0 } });
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  test('a SQLite file with another application id is refused even when it has no tables', () => {
    const path = newPath();
    const other = new Database(path);
    other.run('PRAGMA application_id = 42');
    other.close();
    expect(thrownBy(() => new SQLiteStorage(path))).toMatchObject({
      code: 'storage_not_weft_database',
      details: { applicationId: 42 },
    });
  });

  test('a file of random bytes is refused with storage_corrupt', () => {
    const path = newPath();
    writeFileSync(path, randomBytes(16 * 1024));
    const error = thrownBy(() => new SQLiteStorage(path));
    expect(error).toBeInstanceOf(StorageCorruptError);
    expect(error).toMatchObject({ code: 'storage_corrupt', details: { path } });
  });

  test('a refused open leaves no lock behind, so the next attempt gets the same answer', () => {
    const path = newPath();
    writeFileSync(path, 'not a database at all, just some text that is long enough to have a header');
    expect(thrownBy(() => new SQLiteStorage(path))).toMatchObject({ code: 'storage_corrupt' });
    expect(thrownBy(() => new SQLiteStorage(path))).toMatchObject({ code: 'storage_corrupt' });
  });

  test('a database with a newer schema version is refused with storage_schema_too_new naming both versions', async () => {
    const path = newPath();
    await new SQLiteStorage(path).close();
    const raw = new Database(path);
    raw.run(`PRAGMA user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    raw.close();
    const error = thrownBy(() => new SQLiteStorage(path));
    expect(error).toBeInstanceOf(StorageSchemaTooNewError);
    expect(error).toMatchObject({
      code: 'storage_schema_too_new',
      details: { found: LATEST_SCHEMA_VERSION + 1, known: LATEST_SCHEMA_VERSION },
    });
    expect((error as Error).message).toContain(`schema version ${LATEST_SCHEMA_VERSION + 1}`);
    expect((error as Error).message).toContain(`up to ${LATEST_SCHEMA_VERSION}`);
  });

  test('a path in a missing directory is refused with storage_open_failed', () => {
    const error = thrownBy(() => new SQLiteStorage(join(dir, 'no', 'such', 'dir', 'weft.db')));
    expect(error).toBeInstanceOf(StorageOpenFailedError);
    expect(error).toMatchObject({ code: 'storage_open_failed' });
  });
});
