/**
 * `npm run bench`: Weft's throughput and latency on SQLite, each figure beside a baseline
 * measured in the same run on the same machine, and the ratio between them.
 *
 * The baseline is raw `bun:sqlite`: batched inserts of a row comparable to a run record (same
 * columns, same payload size), with the same WAL/synchronous settings as the adapter. It is the
 * ceiling for anything that must write a row per workflow event. The visibility rows
 * (`engine.list` / `engine.aggregate` over 100,000 runs) are measured in `visibility.ts` against the
 * same questions in hand-written SQL. The HTTP rows (`http.ts`) drive `serve()` with a real load
 * generator beside a `Bun.serve` hello-world under the same load. The real-time rows (`realtime.ts`)
 * time a stream chunk to a WebSocket client beside a Bun WebSocket echo, and a fan-out to 1,000
 * sockets beside `Bun.serve` sending the same frames. The workload rows (`workloads.ts`) are issue
 * 17's W1/W2/W3 at 64 in flight, embedded and over REST, beside the raw baselines.
 *
 * `--only http,realtime` measures only the named parts (`starts`, `three-step`, `signal`,
 * `recovery`, `bytes`, `memory`, `workloads`, `http`, `realtime`, `visibility`); `--quick` runs one process of
 * smaller rounds.
 */
import { Database } from 'bun:sqlite';
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, signal, workflow } from '../src/index.ts';
import { SQLiteStorage } from '../src/storage/sqlite/index.ts';
import type { Row } from './row.ts';
import { percentile } from './row.ts';
import { measureHttp } from './http.ts';
import { measureRealtime } from './realtime.ts';
import { measureVisibility } from './visibility.ts';
import { rawInsertsPerSecond as rawInserts, rawSingleInsertLatencyMs as rawSingleInserts } from './raw-sqlite.ts';
import { measureWorkloads } from './workloads.ts';

const quick = process.argv.includes('--quick');
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt === -1 ? undefined : (process.argv[onlyAt + 1] ?? '').split(',');
const PARTS = [
  'starts',
  'three-step',
  'signal',
  'recovery',
  'bytes',
  'memory',
  'workloads',
  'http',
  'realtime',
  'visibility',
];
for (const part of only ?? []) {
  if (!PARTS.includes(part)) throw new Error(`--only: no part "${part}" (parts: ${PARTS.join(', ')})`);
}
const selected = (part: string): boolean => only === undefined || only.includes(part);
const dir = mkdtempSync(join(tmpdir(), 'weft-bench-'));
let dbCounter = 0;
const freshPath = (): string => join(dir, `bench-${dbCounter++}.db`);
const scale = quick ? 0.1 : 1;
const n = (count: number): number => Math.max(10, Math.round(count * scale));

const rows: Row[] = [];

// ---- baseline ---------------------------------------------------------------------------------

const rawInsertsPerSecond = (count: number, batch: number): number => rawInserts(freshPath(), count, batch);
const rawSingleInsertLatencyMs = (count: number): number[] => rawSingleInserts(freshPath(), count);

// ---- helpers ----------------------------------------------------------------------------------

async function withEngine<T>(
  workflows: Parameters<typeof Engine.create>[0]['workflows'],
  fn: (engine: Engine, storage: SQLiteStorage, path: string) => Promise<T>,
): Promise<T> {
  const path = freshPath();
  const storage = new SQLiteStorage(path);
  const engine = await Engine.create({ storage, workflows });
  try {
    return await fn(engine, storage, path);
  } finally {
    await engine.close();
    await storage.close();
  }
}

async function inBatches(total: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await task(next++);
    }),
  );
}

const ping = signal<number>('ping');

const waiter = workflow({ name: 'waiter' }).execute(async function* (ctx) {
  return yield* ctx.waitForSignal(ping);
});

const threeStep = workflow({ name: 'three-step' })
  .activities({ step: (x: number) => x + 1 })
  .execute(async function* (ctx, x: number) {
    const a = yield* ctx.run('step', x);
    const b = yield* ctx.run('step', a);
    return yield* ctx.run('step', b);
  });

let pong: ((value: number) => void) | undefined;
const pingPong = workflow({ name: 'ping-pong' })
  .activities({ pong: (x: number) => (pong?.(x), x) })
  .execute(async function* (ctx, rounds: number) {
    for (let i = 0; i < rounds; i++) {
      const value = yield* ctx.waitForSignal(ping);
      yield* ctx.run('pong', value);
    }
  });

/** Called by the long run's code each time it (re)reaches its final wait: after recovery, that is the end of replay. */
let reachedWait: (() => void) | undefined;
const longRun = workflow({ name: 'long-run' })
  .activities({ step: (x: number) => x })
  .execute(async function* (ctx, steps: number) {
    for (let i = 0; i < steps; i++) yield* ctx.run('step', i);
    reachedWait?.();
    return yield* ctx.waitForSignal(ping);
  });

// ---- measurements -----------------------------------------------------------------------------

/**
 * Steady-state rates of Weft and of its baseline: two warm-up rounds each, then five rounds that
 * alternate baseline and Weft (so both see the same moment of a shared VM), each round on a fresh
 * database; the median of each. Single rounds swing by a third; medians of alternating warm rounds
 * far less.
 */
async function pairedRates(
  baselineRound: (count: number) => Promise<number>,
  weftRound: (count: number) => Promise<number>,
  count: number,
): Promise<{ baseline: number; weft: number }> {
  for (let i = 0; i < 2; i++) {
    await baselineRound(Math.max(10, Math.round(count / 2)));
    await weftRound(Math.max(10, Math.round(count / 2)));
  }
  const baseline: number[] = [];
  const weft: number[] = [];
  for (let i = 0; i < 5; i++) {
    baseline.push(await baselineRound(count));
    weft.push(await weftRound(count));
  }
  return { baseline: percentile(baseline, 50), weft: percentile(weft, 50) };
}

async function measureStarts(): Promise<void> {
  const count = n(20_000);
  const { baseline, weft: perSecond } = await pairedRates(
    async (c) => rawInsertsPerSecond(c, 512),
    (c) =>
      withEngine([waiter], async (engine) => {
        const start = performance.now();
        await inBatches(c, 1000, (i) => engine.start(waiter, undefined, { id: `w-${i}` }));
        return c / ((performance.now() - start) / 1000);
      }),
    count,
  );
  rows.push({
    metric: 'workflow starts (median of 5 alternating warm rounds)',
    weft: perSecond,
    unit: '/s',
    baseline,
    baselineName: 'raw batched INSERT rows/s',
    target: '>= 60,000/s',
    higherIsBetter: true,
  });
}

async function measureThreeStep(): Promise<void> {
  const count = n(10_000);
  // A completed 3-step run writes 5 rows: the run, 3 journal entries, the final update.
  const { baseline, weft: perSecond } = await pairedRates(
    async (c) => rawInsertsPerSecond(c * 5, 512) / 5,
    (c) =>
      withEngine([threeStep], async (engine) => {
        const start = performance.now();
        await inBatches(c, 1000, async (i) => (await engine.start(threeStep, i, { id: `t-${i}` })).result());
        return c / ((performance.now() - start) / 1000);
      }),
    count,
  );
  rows.push({
    metric: 'completed 3-activity workflows (median of 5 alternating warm rounds)',
    weft: perSecond,
    unit: '/s',
    baseline,
    baselineName: 'raw INSERT rows/s ÷ 5',
    target: '>= 10,000/s',
    higherIsBetter: true,
  });
}

async function measureSignalRoundTrip(): Promise<void> {
  const rounds = n(2_000);
  const baselineSamples = rawSingleInsertLatencyMs(rounds);
  const samples = await withEngine([pingPong], async (engine) => {
    await engine.start(pingPong, rounds, { id: 'pp' });
    await Bun.sleep(5);
    const out: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const answered = new Promise<number>((resolve) => (pong = resolve));
      const start = performance.now();
      await engine.signal('pp', ping, i);
      await answered;
      out.push(performance.now() - start);
    }
    return out;
  });
  for (const p of [50, 99]) {
    rows.push({
      metric: `signal round-trip p${p}`,
      weft: percentile(samples, p),
      unit: 'ms',
      baseline: percentile(baselineSamples, p),
      baselineName: `raw single-row commit p${p} ms`,
      target: p === 50 ? '<= 0.5 ms' : '-',
      higherIsBetter: false,
    });
  }
}

async function measureRecovery(): Promise<void> {
  const steps = quick ? 1_000 : 10_000;
  const path = freshPath();
  {
    const storage = new SQLiteStorage(path);
    const engine = await Engine.create({ storage, workflows: [longRun] });
    await engine.start(longRun, steps, { id: 'long' });
    while ((await engine.get('long'))?.status !== 'suspended') await Bun.sleep(10);
    await engine.close();
    await storage.close();
  }
  // Median of several recoveries, each of a fresh copy of the same closed database: from
  // Engine.create (which loads the run and its journal) until the replayed code is back at its wait.
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    const copy = `${path}-copy-${i}.db`;
    copyFileSync(path, copy);
    const storage = new SQLiteStorage(copy);
    const replayed = Promise.withResolvers<void>();
    reachedWait = replayed.resolve;
    // Recovery happens in a freshly started process: do not charge it the garbage of the
    // measurements that ran before it in this one.
    Bun.gc(true);
    const start = performance.now();
    const engine = await Engine.create({ storage, workflows: [longRun] });
    await replayed.promise;
    samples.push(performance.now() - start);
    reachedWait = undefined;
    // The recovered run still works: it takes a signal and completes.
    await engine.signal('long', ping, 1);
    await engine.handle('long').result();
    await engine.close();
    await storage.close();
  }
  const ms = percentile(samples, 50);
  // Baseline: reading the same number of journal rows straight from SQLite.
  const db = new Database(path, { readonly: true });
  const reads: number[] = [];
  for (let i = 0; i < 5; i++) {
    const readStart = performance.now();
    db.query('SELECT * FROM journal WHERE run_id = ? ORDER BY seq').all('long');
    reads.push(performance.now() - readStart);
  }
  const readMs = percentile(reads, 50);
  db.close();
  rows.push({
    metric: `recovery of a ${steps}-step run (median of 5)`,
    weft: ms,
    unit: 'ms',
    baseline: readMs,
    baselineName: 'raw SELECT of its journal ms (median of 5)',
    target: '< 20 ms',
    higherIsBetter: false,
  });
}

async function measureBytesPerRun(): Promise<void> {
  const count = n(5_000);
  const bytes = await withEngine([threeStep], async (engine, _storage, path) => {
    const size = (): number => {
      const db = new Database(path);
      db.run('PRAGMA wal_checkpoint(TRUNCATE)');
      const { page_count } = db.query('PRAGMA page_count').get() as { page_count: number };
      const { page_size } = db.query('PRAGMA page_size').get() as { page_size: number };
      db.close();
      return page_count * page_size;
    };
    const before = size();
    await inBatches(count, 500, async (i) => (await engine.start(threeStep, i, { id: `b-${i}` })).result());
    return (size() - before) / count;
  });
  const rawPath = freshPath();
  const db = new Database(rawPath);
  db.run(
    `CREATE TABLE runs (id TEXT PRIMARY KEY, type TEXT, status TEXT, input BLOB, created_at INTEGER, updated_at INTEGER)`,
  );
  const insert = db.prepare('INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)');
  const before = statSync(rawPath).size;
  db.transaction(() => {
    for (let i = 0; i < count; i++)
      insert.run(`b-${i}`, 'three-step', 'completed', new Uint8Array(24), Date.now(), Date.now());
  })();
  db.close();
  const rawBytes = (statSync(rawPath).size - before) / count;
  rows.push({
    metric: 'bytes stored per completed 3-step run',
    weft: bytes,
    unit: 'B',
    baseline: rawBytes,
    baselineName: 'raw bytes per run row',
    target: '-',
    higherIsBetter: false,
  });
}

/**
 * Baseline for memory: the heap cost of keeping one plain object per run (id, type, status) in a
 * Map. Measured first thing, before any engine has left garbage that a later GC would reclaim
 * in the middle of the measurement.
 */
function measurePlainObjectBytes(count: number): number {
  const map = new Map<string, { id: string; type: string; status: string }>();
  Bun.gc(true);
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i++) map.set(`m-${i}`, { id: `m-${i}`, type: 'waiter', status: 'suspended' });
  Bun.gc(true);
  return (process.memoryUsage().heapUsed - before) / map.size;
}
const plainObjectBytesPerRun = selected('memory') ? measurePlainObjectBytes(quick ? 1_000 : 10_000) : 0;

async function measureMemoryPerSuspendedRun(): Promise<void> {
  const count = quick ? 1_000 : 10_000;
  const perRun = await withEngine([waiter], async (engine) => {
    Bun.gc(true);
    const before = process.memoryUsage().heapUsed;
    await inBatches(count, 1000, (i) => engine.start(waiter, undefined, { id: `m-${i}` }));
    while ((await engine.get(`m-${count - 1}`))?.status !== 'suspended') await Bun.sleep(10);
    await Bun.sleep(50);
    Bun.gc(true);
    return (process.memoryUsage().heapUsed - before) / count;
  });
  const baseline = plainObjectBytesPerRun;
  rows.push({
    metric: `memory per suspended run (${count} runs)`,
    weft: perRun,
    unit: 'B',
    baseline,
    baselineName: 'plain {id,type,status} in a Map',
    target: '<= 1 KB',
    higherIsBetter: false,
  });
}

// ---- report -----------------------------------------------------------------------------------

function format(value: number): string {
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(value >= 10 ? 1 : 3);
}

/**
 * The figures vary more between processes than within one (JIT tiering and the VM's CPU share
 * settle differently per process), so the benchmark runs its measurements in PROCESSES fresh
 * processes and reports, per figure, the median across them.
 */
const PROCESSES = quick ? 1 : 3;

async function measureAll(): Promise<Row[]> {
  try {
    if (selected('starts')) await measureStarts();
    if (selected('three-step')) await measureThreeStep();
    if (selected('signal')) await measureSignalRoundTrip();
    if (selected('recovery')) await measureRecovery();
    if (selected('bytes')) await measureBytesPerRun();
    if (selected('memory')) await measureMemoryPerSuspendedRun();
    // After the heap figure: issue 17's W1/W2/W3, embedded and over REST (client in this process).
    if (selected('workloads')) rows.push(...(await measureWorkloads({ quick, freshPath })));
    // After the heap figure: the load generator runs in this process and leaves its garbage here.
    if (selected('http')) rows.push(...(await measureHttp({ quick, dir })));
    // After the heap figure too: 1,000 sockets' buffers and the subscriber process's pipes.
    if (selected('realtime')) rows.push(...(await measureRealtime({ quick, dir })));
    // Last: its 100,000-run fixture must not leave garbage in the heap the memory figure measures.
    if (selected('visibility')) {
      rows.push(
        ...(await measureVisibility({
          runs: quick ? 10_000 : 100_000,
          minSamples: quick ? 20 : 50,
          maxSamples: quick ? 50 : 200,
        })),
      );
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function inFreshProcesses(): Promise<Row[]> {
  const runs: Row[][] = [];
  for (let i = 0; i < PROCESSES; i++) {
    const args = [
      process.execPath,
      import.meta.path,
      '--worker',
      ...(quick ? ['--quick'] : []),
      ...(only === undefined ? [] : ['--only', only.join(',')]),
    ];
    const child = Bun.spawn(args, { stdout: 'pipe', stderr: 'inherit' });
    const output = await new Response(child.stdout).text();
    if ((await child.exited) !== 0) throw new Error(`benchmark process ${i + 1} failed`);
    runs.push(JSON.parse(output) as Row[]);
    console.error(`benchmark process ${i + 1}/${PROCESSES} done`);
  }
  return runs[0]!.map((row, index) => ({
    ...row,
    weft: percentile(
      runs.map((run) => run[index]!.weft),
      50,
    ),
    baseline: percentile(
      runs.map((run) => run[index]!.baseline),
      50,
    ),
  }));
}

function printTable(results: Row[]): void {
  const header = ['metric', 'weft', 'baseline', 'weft / baseline', 'target'];
  const table = results.map((r) => [
    r.metric,
    `${format(r.weft)} ${r.unit}`,
    `${format(r.baseline)} (${r.baselineName})`,
    `${(r.weft / r.baseline).toFixed(3)}×`,
    r.target,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const where = `${PROCESSES} process${PROCESSES === 1 ? '' : 'es'}, median per figure`;
  console.log(
    `\nWeft benchmark (${quick ? 'quick' : 'full'}; ${where}), Bun ${Bun.version}, ${new Date().toISOString()}\n`,
  );
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of table) console.log(line(row));
}

if (process.argv.includes('--worker')) {
  console.log(JSON.stringify(await measureAll()));
} else {
  rmSync(dir, { recursive: true, force: true });
  printTable(await inFreshProcesses());
}
