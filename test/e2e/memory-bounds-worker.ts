/**
 * The process memory-bounds.test.ts measures: one engine on a SQLite file runs a mixed load to
 * completion and prints its heap after a full GC, once after a warm-up and once at the end.
 *
 * A process of its own, so nothing the test runner or other test files allocate shows in the
 * figures. The mix touches every in-memory structure keyed by run, update, event or key: activity
 * runs started with idempotency keys, signal waits (some with a timeout, so a timer is armed and
 * cancelled), runs with an execution deadline that end long before it, updates with and without
 * idempotency keys and timeouts, queries, child runs, and bursts of more suspended runs than
 * `maxSuspendedInMemory` (the default, 1000) so runs are evicted and woken again, and live readers
 * (a fleet event subscriber throughout, a watch of some runs to their end). Between bursts
 * nothing is evicted, as on a server whose load stays under the limit — where a structure that is
 * only cleaned by eviction grows. One run sleeps through it all with the earliest timer, as a long
 * sleep would in production. Prints one line per measurement: `heap <label> <bytes> <objects>`.
 *
 * Usage: bun memory-bounds-worker.ts <db path> <runs> [<warm-up runs>]
 */
import { heapStats } from 'bun:jsc';
import { Engine, signal, workflow } from '../../src/index.ts';
import { SQLiteStorage } from '../../src/storage/sqlite/index.ts';

const [dbPath, runsArg, warmUpArg] = process.argv.slice(2);
if (dbPath === undefined || runsArg === undefined)
  throw new Error('usage: memory-bounds-worker <db> <runs> [<warm-up>]');
const runs = Number(runsArg);
const warmUp = Number(warmUpArg ?? 2000);

const go = signal<number>('go');
const done = signal('done');

const fan = workflow({ name: 'fan' })
  .activities({ double: async (n: number) => n * 2 })
  .execute(async function* (ctx, n: number) {
    const a = yield* ctx.run('double', n);
    const b = yield* ctx.run('double', a);
    return a + b;
  });

const ticket = workflow({ name: 'ticket' }).execute(async function* (ctx, timed: boolean) {
  const value = timed ? yield* ctx.waitForSignal(go, { timeout: '1h' }) : yield* ctx.waitForSignal(go);
  return value ?? -1;
});

const counter = workflow({ name: 'counter' }).execute(async function* (ctx) {
  let total = 0;
  ctx.onUpdate('add', (n: number) => (total += n));
  ctx.onQuery('total', () => total);
  yield* ctx.waitForSignal(done);
  return total;
});

const kid = workflow({ name: 'kid' }).execute(async function* (ctx, n: number) {
  yield* ctx.sleep(1);
  return n + 1;
});

const parent = workflow({ name: 'parent' }).execute(async function* (ctx, n: number) {
  const child = ctx.startChild<number>('kid', n);
  return yield* child.result();
});

/** Sleeps past the end of the test: its timer is due before every deadline of the mix. */
const sleeper = workflow({ name: 'sleeper' }).execute(async function* (ctx) {
  yield* ctx.sleep('30m');
});

const storage = new SQLiteStorage(dbPath);
const engine = await Engine.create({
  storage,
  workflows: [fan, ticket, counter, kid, parent, sleeper],
});

/** One run of the mix, chosen by `i`, started and awaited to its result (checked). */
async function runOne(i: number): Promise<void> {
  const id = `r-${i}`;
  switch (i % 8) {
    case 0:
    case 1:
    case 2: {
      const handle = await engine.start(fan, i, { id, idempotencyKey: `k-${id}`, executionTimeout: '1h' });
      expect((await handle.result()) === i * 6, id);
      return;
    }
    case 3:
    case 4: {
      const timed = i % 8 === 4;
      const handle = await engine.start(ticket, timed, { id });
      // Half of these are watched to their end: a live reader per run, as the watch route keeps.
      const watched = timed ? undefined : readAll(await engine.watch(id));
      await engine.signal(id, go, i);
      expect((await handle.result()) === i, id);
      const last = (await watched)?.at(-1);
      expect(last === undefined || last.status === 'completed', id);
      return;
    }
    case 5:
    case 6: {
      const handle = await engine.start(counter, undefined, { id });
      const first = await engine.update(id, 'add', 2, { idempotencyKey: `u-${id}` });
      // The same key again answers with the first outcome, without running the handler twice.
      const again = await engine.update(id, 'add', 2, { idempotencyKey: `u-${id}` });
      await engine.update(id, 'add', 3, { timeout: '1h' });
      const total = await engine.query<number>(id, 'total');
      expect(first.status === 'completed' && again.updateId === first.updateId && total === 5, id);
      expect((await engine.getUpdate(first.updateId))?.status === 'completed', id);
      await engine.signal(id, done);
      expect((await handle.result()) === 5, id);
      return;
    }
    default: {
      const handle = await engine.start(parent, i, { id });
      expect((await handle.result()) === i + 1, id);
    }
  }
}

async function readAll<T>(entries: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const entry of entries) all.push(entry);
  return all;
}

function expect(ok: boolean, id: string): void {
  if (!ok) throw new Error(`run ${id} came out wrong`);
}

/** Runs `count` runs from `from`, `concurrency` at a time. */
async function runMany(from: number, count: number, concurrency = 256): Promise<void> {
  let next = from;
  const end = from + count;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < end) await runOne(next++);
    }),
  );
}

/**
 * Starts `count` signal waits at once — past `maxSuspendedInMemory`, so the oldest are evicted —
 * then signals each (waking the evicted ones by replay) and awaits them all.
 */
async function burst(from: number, count: number): Promise<void> {
  const ids = Array.from({ length: count }, (_, i) => `burst-${from + i}`);
  const handles = await Promise.all(ids.map((id) => engine.start(ticket, false, { id })));
  await Promise.all(ids.map((id, i) => engine.signal(id, go, i)));
  const results = await Promise.all(handles.map((handle) => handle.result()));
  expect(
    results.every((result, i) => result === i),
    `burst-${from}`,
  );
}

function measure(label: string): void {
  Bun.gc(true);
  Bun.gc(true);
  const stats = heapStats();
  console.log(`heap ${label} ${stats.heapSize} ${stats.objectCount}`);
}

// A fleet subscriber follows every event of the load, as a dashboard would.
const following = new AbortController();
let followed = 0;
const follower = (async () => {
  for await (const _event of engine.subscribeEvents({ signal: following.signal })) followed++;
})();

const started = performance.now();
// Resident and unfinished throughout, with the earliest timer: nothing ahead of it in the timer
// schedule can be cleaned up by reaching the front.
await engine.start(sleeper, undefined, { id: 'sleeper' });
const BURST = 1500;
await runMany(0, warmUp - BURST);
await burst(0, BURST);
measure('start');
// Bursts a quarter and half-way in; the last half runs under the limit, nothing evicted.
const quarter = Math.floor((runs - 2 * BURST) / 4);
await runMany(warmUp, quarter);
await burst(warmUp, BURST);
await runMany(warmUp + quarter, quarter);
await burst(warmUp + quarter, BURST);
await runMany(warmUp + 2 * quarter, runs - 2 * BURST - 2 * quarter);
measure('end');
console.log(`took ${Math.round(performance.now() - started)} ms`);
following.abort();
await follower;
if (followed === 0) throw new Error('the fleet subscriber saw no event');
await engine.close();
await storage.close();
