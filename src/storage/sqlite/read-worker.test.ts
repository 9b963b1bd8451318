/**
 * Listings, aggregates and event pages of a SQLite file run on a read worker: the engine keeps
 * committing while one is stuck, a read sees every commit acknowledged before it was issued, a read
 * over its budget is abandoned, and a dead or stuck worker is replaced. No test measures time: a
 * read is held inside the worker through a test gate, which would deadlock a read on this thread.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, workflow } from '../../index.ts';
import { makeRunRecord } from '../../testing/index.ts';
import type { Mutation } from '../storage.ts';
import { READ_WORKER, ReadWorker } from './read-worker.ts';
import { SQLiteStorage } from './sqlite-storage.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-read-worker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newPath = (): string => join(dir, `db-${++files}.db`);

const createRun = (id: string, createdAt = 1): Mutation => ({
  op: 'createRun',
  run: makeRunRecord({ id, status: 'running', createdAt }),
});
const event = (seq: number): Mutation => ({
  op: 'appendEvent',
  event: { seq, type: 'workflow:started', runId: null, at: seq, data: new Uint8Array([seq]) },
});

function readerOf(storage: SQLiteStorage): ReadWorker {
  const reader = storage[READ_WORKER];
  if (reader === undefined) throw new Error('this storage has no read worker');
  return reader;
}

/** Settles to its state now, without waiting for it. */
async function stateOf(promise: Promise<unknown>): Promise<'pending' | 'settled'> {
  const pending = Symbol('pending');
  // Let anything already resolved run its callbacks first.
  await new Promise((resolve) => setImmediate(resolve));
  return (await Promise.race([promise.then(() => 'settled' as const), Promise.resolve(pending)])) === pending
    ? 'pending'
    : 'settled';
}

const pipeline = workflow({ name: 'pipeline' })
  .activities({ step: (n: number) => n + 1 })
  .execute(async function* (ctx, input: number) {
    let n = input;
    for (let i = 0; i < 5; i++) n = yield* ctx.run('step', n);
    return n;
  });

describe('SQLiteStorage read worker', () => {
  test('commits land while a listing is held inside the worker, and the listing reads its own snapshot', async () => {
    await using storage = new SQLiteStorage(newPath());
    await storage.commit([createRun('before')]);
    const held = readerOf(storage).holdNextRead();
    const listing = storage.listRuns({}, { limit: 100 });
    await held.reached;
    for (let i = 0; i < 20; i++) await storage.commit([createRun(`during-${i}`, 2 + i)]);
    expect(await stateOf(listing)).toBe('pending');
    held.release();
    // Its read transaction began before the 20 commits: it answers from that snapshot.
    expect(await listing).toMatchObject({ total: 1, runs: [{ id: 'before' }] });
    expect((await storage.listRuns({}, { limit: 100 })).total).toBe(21);
  });

  test('workflows start, run five steps each and complete while engine.list is held in the worker', async () => {
    await using storage = new SQLiteStorage(newPath());
    await using engine = await Engine.create({ storage, workflows: [pipeline] });
    const held = readerOf(storage).holdNextRead();
    const listing = engine.list({ type: 'pipeline' });
    await held.reached;
    const handles = await Promise.all(Array.from({ length: 10 }, (_, i) => engine.start(pipeline, i * 10)));
    expect(await Promise.all(handles.map((handle) => handle.result()))).toEqual(
      Array.from({ length: 10 }, (_, i) => i * 10 + 5),
    );
    expect(await stateOf(listing)).toBe('pending');
    held.release();
    expect((await listing).total).toBe(0);
    expect((await engine.list({ type: 'pipeline', status: 'completed' })).total).toBe(10);
  });

  test('a read issued right after a commit resolved sees that commit, every time', async () => {
    await using storage = new SQLiteStorage(newPath());
    for (let i = 1; i <= 200; i++) {
      await storage.commit([createRun(`r${i}`, i), event(i)]);
      const [page, groups, events] = await Promise.all([
        storage.listRuns({}, { limit: 1 }),
        storage.aggregateRuns('status', {}, 10),
        storage.readEvents(i - 1, 10),
      ]);
      expect([page.total, page.runs[0]?.id, groups.total, events.map((e) => e.seq)]).toEqual([i, `r${i}`, i, [i]]);
    }
    expect(readerOf(storage).stats).toMatchObject({ spawned: 1, answered: 600, inline: 0 });
  });

  test('a read over its budget rejects with read_timeout, and the next read is answered by a new worker', async () => {
    await using storage = new SQLiteStorage({ path: newPath(), readWorker: { budgetMs: 200 } });
    await storage.commit([createRun('r1')]);
    // Started and warm first, so the held read surely reaches its gate within its budget.
    await storage.readEvents(0, 1);
    const held = readerOf(storage).holdNextRead();
    const stuck = storage.aggregateRuns('type', {}, 10);
    await held.reached;
    await expect(stuck).rejects.toMatchObject({
      code: 'read_timeout',
      retryable: true,
      details: { budgetMs: 200, retryAfterSeconds: 1 },
    });
    expect((await storage.listRuns({}, { limit: 10 })).total).toBe(1);
    expect(readerOf(storage).stats).toMatchObject({ spawned: 2, timedOut: 1 });
    held.release();
  });

  test('when the worker dies inside a read only that read fails; the ones behind it are answered', async () => {
    await using storage = new SQLiteStorage(newPath());
    await storage.commit([createRun('r1'), event(1)]);
    const reader = readerOf(storage);
    const held = reader.holdNextRead();
    const dying = storage.listRuns({}, { limit: 10 });
    await held.reached;
    const events = storage.readEvents(0, 10);
    const groups = storage.aggregateRuns('status', {}, 10);
    held.crash();
    await expect(dying).rejects.toMatchObject({ code: 'storage_read_failed' });
    expect((await events).map((e) => e.seq)).toEqual([1]);
    expect(await groups).toMatchObject({ total: 1, groups: [{ key: 'running', count: 1 }] });
    expect(reader.stats).toMatchObject({ spawned: 2, crashed: 1 });
  });

  test('close() closes the worker, rejects reads still in flight, and leaves no WAL behind', async () => {
    const path = newPath();
    const storage = new SQLiteStorage(path);
    await storage.commit([createRun('r1')]);
    expect((await storage.listRuns({}, { limit: 10 })).total).toBe(1);
    const reader = readerOf(storage);
    expect(reader.running).toBe(true);
    const held = reader.holdNextRead();
    const inFlight = storage.listRuns({}, { limit: 10 }).catch((error: unknown) => error);
    await held.reached;
    await storage.close();
    expect(await inFlight).toMatchObject({ code: 'storage_closed' });
    await expect(storage.readEvents(0, 10)).rejects.toMatchObject({ code: 'storage_closed' });
    expect(reader.running).toBe(false);
    // The engine's connection was the last one open: closing it checkpointed and removed the WAL.
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  test('an idle worker closes at close() too, and a storage that never read starts none', async () => {
    const path = newPath();
    const storage = new SQLiteStorage(path);
    await storage.readEvents(0, 1);
    await storage.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    await using untouched = new SQLiteStorage(newPath());
    expect(readerOf(untouched).stats.spawned).toBe(0);
  });

  test('in memory, and with readWorker: false, reads run inline on the engine connection', async () => {
    await using memory = new SQLiteStorage(':memory:');
    await using inline = new SQLiteStorage({ path: newPath(), readWorker: false });
    for (const storage of [memory, inline]) {
      expect(storage[READ_WORKER]).toBeUndefined();
      await storage.commit([createRun('r1')]);
      expect((await storage.listRuns({}, { limit: 10 })).total).toBe(1);
    }
  });

  test('a worker that cannot see the same database hands every read back to the inline path', async () => {
    // Pointed at another Weft file: its owner record is not the one the inline side reads.
    await using other = new SQLiteStorage(newPath());
    const inline = (op: string): never => (op === 'identity' ? 'this storage' : 'answered inline') as never;
    const stranger = new ReadWorker(other.path, {}, inline);
    expect(await stranger.run('listRuns', [{}, { limit: 1 }])).toBe('answered inline' as never);
    expect(stranger.inlineOnly).toBe(true);
    await stranger.close();
    // A file the worker cannot open at all.
    const missing = new ReadWorker(join(dir, 'no-such-dir', 'x.db'), {}, inline);
    expect(await missing.run('readEvents', [0, 1])).toBe('answered inline' as never);
    expect(missing.stats).toMatchObject({ inline: 1, answered: 0 });
    await missing.close();
  });

  test('errors keep their class and code across the thread boundary', async () => {
    await using storage = new SQLiteStorage(newPath());
    await expect(storage.aggregateRuns('colour' as 'status', {}, 10)).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      code: 'invalid_argument',
    });
    expect(readerOf(storage).stats.answered).toBe(1);
  });

  test('a budget that is not a positive number is refused at construction', () => {
    expect(() => new SQLiteStorage({ path: newPath(), readWorker: { budgetMs: 0 } })).toThrow(/budgetMs/);
  });
});
