/**
 * Upgrading in place: a database written by schema v1 (before parent runs, attributes, updates and
 * the logs) opens with today's code, keeps every row it had, and gains the new tables and indexes.
 */
import { Database } from 'bun:sqlite';
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, WEFT_APPLICATION_ID } from './migrations.ts';
import { SQLiteStorage } from './sqlite-storage.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-sqlite-migrate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newPath = (): string => join(dir, `db-${++files}.db`);

/** A file exactly as Weft with schema v1 left it: v1's statements, its header, some rows. */
function writeVersion1Database(path: string): void {
  const db = new Database(path, { create: true, strict: true });
  db.run('PRAGMA journal_mode = WAL');
  const v1 = MIGRATIONS.find((migration) => migration.version === 1);
  if (v1 === undefined) throw new Error('migration 1 is missing');
  db.transaction(() => {
    for (const statement of v1.statements) db.run(statement);
    db.run(`PRAGMA application_id = ${WEFT_APPLICATION_ID}`);
    db.run('PRAGMA user_version = 1');
  })();
  const insertRun = db.prepare(
    `INSERT INTO runs (id, type, version, status, input, result, error, failure_category, idempotency_key,
      created_at, updated_at, deadline) VALUES ($id, $type, $version, $status, $input, $result, $error,
      $failureCategory, $idempotencyKey, $createdAt, $updatedAt, $deadline)`,
  );
  insertRun.run({
    id: 'done',
    type: 'order',
    version: 'v1',
    status: 'failed',
    input: new Uint8Array([1, 2]),
    result: null,
    error: JSON.stringify({ name: 'E', message: 'boom' }),
    failureCategory: 'activity',
    idempotencyKey: 'key-done',
    createdAt: 10,
    updatedAt: 20,
    deadline: 99,
  });
  insertRun.run({
    id: 'waiting',
    type: 'ship',
    version: null,
    status: 'suspended',
    // Larger than a page, so the row spills to overflow pages and has to be copied whole.
    input: new Uint8Array(10_000).fill(7),
    result: new Uint8Array([3]),
    error: null,
    failureCategory: null,
    idempotencyKey: null,
    createdAt: 30,
    updatedAt: 30,
    deadline: null,
  });
  insertRun.finalize();
  db.run(
    `INSERT INTO journal (run_id, seq, kind, name, ok, value, error, created_at)
     VALUES ('waiting', 1, 'activity', 'pack', 1, x'0102', NULL, 31)`,
  );
  db.run(`INSERT INTO timers (run_id, key, fire_at) VALUES ('waiting', 'deadline', 500)`);
  db.run(`INSERT INTO inbox (run_id, name, payload, created_at) VALUES ('waiting', 'go', x'09', 32)`);
  db.close();
}

describe('migrating a v1 database', () => {
  test('opening it upgrades the file in place and keeps its runs and their rows', async () => {
    const path = newPath();
    writeVersion1Database(path);

    await using storage = new SQLiteStorage(path);
    expect(await storage.getRun('done')).toEqual({
      id: 'done',
      type: 'order',
      version: 'v1',
      status: 'failed',
      input: new Uint8Array([1, 2]),
      result: null,
      error: { name: 'E', message: 'boom' },
      failureCategory: 'activity',
      idempotencyKey: 'key-done',
      createdAt: 10,
      updatedAt: 20,
      deadline: 99,
      parentId: null,
    });
    const waiting = await storage.getRun('waiting');
    expect(waiting?.input).toEqual(new Uint8Array(10_000).fill(7));
    expect(waiting).toMatchObject({ status: 'suspended', result: new Uint8Array([3]), parentId: null });
    expect(await storage.getJournal('waiting')).toHaveLength(1);
    expect(await storage.listTimers()).toEqual([{ runId: 'waiting', key: 'deadline', fireAt: 500 }]);
    expect((await storage.peekSignal('waiting', 'go'))?.payload).toEqual(new Uint8Array([9]));
    expect((await storage.findRunByIdempotencyKey('key-done'))?.id).toBe('done');
    expect((await storage.listRunsByStatus(['suspended'])).map((run) => run.id)).toEqual(['waiting']);

    // The upgraded file lists, aggregates and takes the new mutations like a new one.
    expect(await storage.listRuns({}, { limit: 10 })).toMatchObject({
      runs: [{ id: 'waiting' }, { id: 'done' }],
      total: 2,
    });
    expect(await storage.aggregateRuns('failureCategory', {}, 10)).toEqual({
      total: 2,
      groups: [{ key: 'activity', count: 1 }],
      truncated: false,
    });
    await storage.commit([
      { op: 'setAttributes', runId: 'waiting', attributes: { tier: 'gold' } },
      { op: 'appendEvent', event: { seq: 1, type: 'workflow:resumed', runId: 'waiting', at: 40, data: null } },
      {
        op: 'appendWatch',
        frame: { runId: 'waiting', seq: 1, type: 'workflow:resumed', status: 'running', at: 40, data: null },
      },
    ]);
    expect((await storage.listRuns({ attributes: { tier: 'gold' } }, { limit: 10 })).total).toBe(1);
    expect(await storage.lastEventSeq()).toBe(1);
  });

  test('the upgraded file has the latest version, payloads stored last and the same indexes as a new one', async () => {
    const upgraded = newPath();
    writeVersion1Database(upgraded);
    await new SQLiteStorage(upgraded).close();
    const fresh = newPath();
    await new SQLiteStorage(fresh).close();

    const describeSchema = (path: string) => {
      const db = new Database(path, { readonly: true });
      try {
        return {
          version: (db.query('PRAGMA user_version').get() as { user_version: number }).user_version,
          integrity: db.query('PRAGMA integrity_check').get(),
          runColumns: (db.query('PRAGMA table_info(runs)').all() as { name: string }[]).map((column) => column.name),
          objects: db
            .query(
              `SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_stat%' ORDER BY name`,
            )
            .all(),
        };
      } finally {
        db.close();
      }
    };
    const after = describeSchema(upgraded);
    expect(after.version).toBe(LATEST_SCHEMA_VERSION);
    expect(after.integrity).toEqual({ integrity_check: 'ok' });
    expect(after.runColumns.slice(-3)).toEqual(['error', 'input', 'result']);
    expect(after.runColumns).toContain('parent_id');
    expect(after).toEqual(describeSchema(fresh));
  });

  test('a key taken before the upgrade is still unique after it', async () => {
    const path = newPath();
    writeVersion1Database(path);
    await using storage = new SQLiteStorage(path);
    const run = { ...(await storage.getRun('done'))!, id: 'again' };
    await expect(storage.commit([{ op: 'createRun', run }])).rejects.toMatchObject({
      code: 'storage_conflict',
      conflict: 'idempotency_key',
    });
  });
});
