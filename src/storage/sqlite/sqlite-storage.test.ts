/**
 * SQLiteStorage passes the shared conformance suite in memory and on a file; the tests after it cover
 * what only a real database has: persistence, group commit and failed writes.
 */
import { Database } from 'bun:sqlite';
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Mutation, RunRecord } from '../storage.ts';
import { makeRunRecord, runStorageConformance } from '../../testing/index.ts';
import { SQLiteStorage } from './sqlite-storage.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newPath = (): string => join(dir, `db-${++files}.db`);

runStorageConformance({ name: 'SQLiteStorage', create: () => new SQLiteStorage(':memory:') });
runStorageConformance({ name: 'SQLiteStorage on a file', create: () => new SQLiteStorage(newPath()) });

const makeRun = (id: string, overrides: Partial<RunRecord> = {}): RunRecord =>
  makeRunRecord({ status: 'running', ...overrides, id });

const createRun = (id: string, input?: Uint8Array): Mutation => ({
  op: 'createRun',
  run: makeRun(id, input ? { input } : {}),
});

describe('SQLiteStorage', () => {
  test('data survives close and reopen', async () => {
    const path = newPath();
    const run = makeRun('r1', { idempotencyKey: 'k1', error: { name: 'E', message: 'm', details: { n: 1 } } });
    const first = new SQLiteStorage({ path, durability: 'full' });
    await first.commit([
      { op: 'createRun', run },
      {
        op: 'appendJournal',
        entry: { runId: 'r1', seq: 1, kind: 'now', name: '', ok: true, value: null, error: null, createdAt: 5 },
      },
      { op: 'putTimer', timer: { runId: 'r1', key: 'deadline', fireAt: 99 } },
      { op: 'enqueueSignal', message: { runId: 'r1', name: 'go', payload: new Uint8Array([7]), createdAt: 6 } },
    ]);
    const firstId = (await first.peekSignal('r1', 'go'))?.id ?? Number.NaN;
    await first.commit([{ op: 'consumeSignal', id: firstId }]);
    await first.close();

    await using second = new SQLiteStorage(path);
    expect(second.durability).toBe('normal');
    expect(await second.findRunByIdempotencyKey('k1')).toEqual({ ...run, input: new Uint8Array([1, 2, 3]) });
    expect(await second.getJournal('r1')).toHaveLength(1);
    expect(await second.listTimers()).toEqual([{ runId: 'r1', key: 'deadline', fireAt: 99 }]);
    // Inbox ids keep increasing across a reopen, even past a consumed message.
    await second.commit([
      { op: 'enqueueSignal', message: { runId: 'r1', name: 'go', payload: new Uint8Array(), createdAt: 7 } },
    ]);
    expect((await second.peekSignal('r1', 'go'))?.id).toBeGreaterThan(firstId);
  });

  test('500 commits issued together all land, in far fewer SQLite transactions than commits', async () => {
    await using storage = new SQLiteStorage(newPath());
    const ids = Array.from({ length: 500 }, (_, i) => `run-${i}`);
    await Promise.all(ids.map((id) => storage.commit([createRun(id)])));
    expect(storage.stats).toEqual({ transactions: 1, commits: 500 });
    expect((await storage.listRunsByStatus(['running'])).length).toBe(500);
  });

  test('commits arriving from separate events of one loop turn share a transaction', async () => {
    await using storage = new SQLiteStorage(newPath());
    // Each commit is issued from its own setImmediate callback: a separate event of the same loop turn.
    const commits = Array.from(
      { length: 50 },
      (_, i) => new Promise<void>((resolve) => setImmediate(() => resolve(storage.commit([createRun(`r${i}`)])))),
    );
    await Promise.all(commits);
    expect(storage.stats.commits).toBe(50);
    expect(storage.stats.transactions).toBeLessThanOrEqual(2);
  });

  test('a conflicting commit inside a group rejects only its caller', async () => {
    await using storage = new SQLiteStorage(newPath());
    await storage.commit([createRun('taken')]);
    const outcomes = await Promise.allSettled([
      storage.commit([createRun('a')]),
      storage.commit([createRun('b'), createRun('taken')]),
      storage.commit([createRun('c')]),
      storage.commit([{ op: 'consumeSignal', id: 12345 }]),
      storage.commit([{ op: 'updateRun', id: 'a', patch: { status: 'completed' } }]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect(outcomes[1]).toMatchObject({ reason: { code: 'workflow_already_exists' } });
    expect(outcomes[3]).toMatchObject({ reason: { code: 'storage_conflict', conflict: 'signal_missing' } });
    expect(await storage.getRun('b')).toBeUndefined();
    expect((await storage.getRun('a'))?.status).toBe('completed');
    expect(await storage.getRun('c')).toBeDefined();
    expect(storage.stats).toEqual({ transactions: 2, commits: 4 });
  });

  test('a commit is visible to another connection by the time its promise resolves', async () => {
    const path = newPath();
    await using storage = new SQLiteStorage(path);
    const reader = new Database(path, { readonly: true });
    const seen = await Promise.all(
      ['a', 'b', 'c'].map((id) =>
        storage.commit([createRun(id)]).then(() => reader.query('SELECT id FROM runs WHERE id = ?').get(id)),
      ),
    );
    reader.close();
    expect(seen).toEqual([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
  });

  test('pendingCommits counts commits waiting for their group, and is zero once they landed', async () => {
    await using storage = new SQLiteStorage(newPath());
    expect(storage.pendingCommits()).toBe(0);
    const landed = Promise.all([storage.commit([createRun('a')]), storage.commit([createRun('b')])]);
    expect(storage.pendingCommits()).toBe(2);
    await landed;
    expect(storage.pendingCommits()).toBe(0);
  });

  test('commits accepted before close are written by close', async () => {
    const path = newPath();
    const storage = new SQLiteStorage(path);
    const pending = storage.commit([createRun('late')]);
    await storage.close();
    await pending;
    await using reopened = new SQLiteStorage(path);
    expect(await reopened.getRun('late')).toBeDefined();
  });

  test.skipIf(process.platform === 'win32')(
    'a COMMIT that fails on a write error rejects every commit of its group and leaves nothing visible',
    async () => {
      // A real failing write: the child may not grow any file past ~100 KB (`ulimit -f`), with SIGXFSZ
      // ignored so the write returns EFBIG instead of killing it. A 1 MB payload then fails at COMMIT.
      const path = newPath();
      const setup = new SQLiteStorage(path);
      await setup.commit([createRun('before')]);
      await setup.close();
      const script = join(dir, 'failing-commit.ts');
      writeFileSync(script, failingCommitScript(join(import.meta.dir, 'index.ts'), path));
      const child = Bun.spawnSync([
        'sh',
        '-c',
        `trap '' XFSZ; ulimit -f 200; exec "$0" "$1"`,
        process.execPath,
        script,
      ]);
      if (!child.success) throw new Error(`child failed: ${child.stderr.toString()}`);
      const report = JSON.parse(child.stdout.toString()) as unknown;
      expect(report).toEqual({
        small: 'ok',
        group: ['storage_write_failed', 'storage_write_failed'],
        visible: [false, false],
        afterwards: 'ok',
      });
      await using reopened = new SQLiteStorage(path);
      expect(await reopened.getRun('big')).toBeUndefined();
      expect(await reopened.getRun('neighbour')).toBeUndefined();
      expect(await reopened.getRun('small')).toBeDefined();
      expect(await reopened.getRun('after')).toBeDefined();
      await reopened.close();
      const check = new Database(path, { readonly: true });
      expect(check.query('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });
      check.close();
    },
  );
});

/** The child's side of the failed-COMMIT test; prints one JSON line. */
function failingCommitScript(indexPath: string, dbPath: string): string {
  return `
import { SQLiteStorage } from ${JSON.stringify(indexPath)};
const run = (id, bytes) => ({ op: 'createRun', run: { id, type: 't', version: null, status: 'running',
  input: new Uint8Array(bytes), result: null, error: null, failureCategory: null, idempotencyKey: null,
  createdAt: 1, updatedAt: 1, deadline: null } });
const storage = new SQLiteStorage(${JSON.stringify(dbPath)});
await storage.commit([run('small', 10)]);
const group = await Promise.allSettled([storage.commit([run('neighbour', 10)]), storage.commit([run('big', 1_000_000)])]);
const visible = [Boolean(await storage.getRun('neighbour')), Boolean(await storage.getRun('big'))];
await storage.commit([run('after', 10)]);
await storage.close();
console.log(JSON.stringify({ small: 'ok', group: group.map((o) => o.reason?.code ?? o.status), visible, afterwards: 'ok' }));
`;
}
