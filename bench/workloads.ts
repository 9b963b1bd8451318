/**
 * Issue 17's three workloads, each at 64 requests in flight, for Weft embedded (SQLite, default
 * durability) and Weft over REST (`serve()` on port 0, an `HttpClient` over `fetch` in the same
 * process), each beside a raw `bun:sqlite` baseline measured in the same process:
 *
 * - W1: workflows of three sequential activities completed per second (start, then its result);
 * - W2: starts acknowledged per second, and the start latency p50, while the started workflows
 *   (one activity, then done) execute meanwhile in the same process;
 * - W3: signal → waiting workflow → result latency p50, one at a time, each sample a fresh run
 *   already suspended on its signal.
 *
 * Every trial is fresh (new database, engine and server); a figure is the median of three trials
 * after one smaller warm-up trial, and `run.ts` takes the median of its processes on top.
 *
 * Trap it avoids: a start figure that is really a completion figure. W2 times each start from the
 * call to its acknowledgement only; the runs finish afterwards, untimed, before the trial closes.
 */
import { HttpClient } from '../src/client/index.ts';
import { Engine, signal, workflow } from '../src/index.ts';
import { serve } from '../src/server/index.ts';
import { SQLiteStorage } from '../src/storage/sqlite/index.ts';
import { rawInsertsPerSecond, rawSingleInsertLatencyMs } from './raw-sqlite.ts';
import { percentile, type Row } from './row.ts';

const IN_FLIGHT = 64;
const TRIALS = 3;

const go = signal<number>('go');

const threeStep = workflow({ name: 'w1-three-step' })
  .activities({ step: (x: number) => x + 1 })
  .execute(async function* (ctx, x: number) {
    const a = yield* ctx.run('step', x);
    const b = yield* ctx.run('step', a);
    return yield* ctx.run('step', b);
  });

const short = workflow({ name: 'w2-short' })
  .activities({ step: (x: number) => x + 1 })
  .execute(async function* (ctx, x: number) {
    return yield* ctx.run('step', x);
  });

const waitsForSignal = workflow({ name: 'w3-waiter' }).execute(async function* (ctx) {
  return yield* ctx.waitForSignal(go);
});

const WORKFLOWS = [threeStep, short, waitsForSignal];

/** What a workload does to Weft: the same four calls embedded and over REST. */
interface Driver {
  /** Resolves with the run's id once the start is acknowledged. */
  start(type: string, input: unknown): Promise<string>;
  result(id: string): Promise<unknown>;
  signal(id: string, payload: number): Promise<void>;
  status(id: string): Promise<string | undefined>;
}

type Mode = 'embedded' | 'rest';

/** A fresh database, engine and (for REST) server for one trial; everything is closed after it. */
async function withDriver<T>(mode: Mode, path: string, fn: (driver: Driver) => Promise<T>): Promise<T> {
  const storage = new SQLiteStorage(path);
  const engine = await Engine.create({ storage, workflows: WORKFLOWS });
  const server = mode === 'rest' ? serve({ engine, port: 0, unauthenticatedAccess: 'allow' }) : undefined;
  try {
    if (server === undefined) {
      return await fn({
        start: async (type, input) => (await engine.start(type, input)).id,
        result: (id) => engine.handle(id).result(),
        signal: (id, payload) => engine.signal(id, go, payload),
        status: async (id) => (await engine.get(id))?.status,
      });
    }
    const client = new HttpClient({ baseUrl: server.url });
    return await fn({
      start: async (type, input) => (await client.startWorkflow({ type, input })).id,
      result: async (id) => (await client.workflowResult({ id })).result,
      signal: async (id, payload) => void (await client.signalWorkflow({ id, name: 'go', payload })),
      status: async (id) => (await client.getWorkflow({ id })).status,
    });
  } finally {
    await server?.stop();
    await engine.close();
    await storage.close();
  }
}

/** Runs `task(0 … total-1)` with `IN_FLIGHT` of them in flight at any time. */
async function inFlight(total: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < total) await task(next++);
    }),
  );
}

/** W1: completed 3-activity workflows per second. */
async function w1(driver: Driver, count: number): Promise<number> {
  const start = performance.now();
  await inFlight(count, async (i) => driver.result(await driver.start(threeStep.name, i)));
  return count / ((performance.now() - start) / 1000);
}

/** W2: acknowledged starts per second and each start's latency; the runs finish untimed afterwards. */
async function w2(driver: Driver, count: number): Promise<{ perSecond: number; latenciesMs: number[] }> {
  const ids: string[] = [];
  const latenciesMs: number[] = [];
  const start = performance.now();
  await inFlight(count, async (i) => {
    const sent = performance.now();
    ids.push(await driver.start(short.name, i));
    latenciesMs.push(performance.now() - sent);
  });
  const perSecond = count / ((performance.now() - start) / 1000);
  await inFlight(ids.length, (i) => driver.result(ids[i]!));
  return { perSecond, latenciesMs };
}

/** W3: from sending the signal to a run waiting for it until its result arrives, one run at a time. */
async function w3(driver: Driver, samples: number): Promise<number[]> {
  const latenciesMs: number[] = [];
  for (let i = 0; i < samples; i++) {
    const id = await driver.start(waitsForSignal.name, undefined);
    while ((await driver.status(id)) !== 'suspended') await Bun.sleep(0);
    const sent = performance.now();
    await driver.signal(id, i);
    await driver.result(id);
    latenciesMs.push(performance.now() - sent);
  }
  return latenciesMs;
}

interface TrialFigures {
  w1: number;
  w2: number;
  w2p50: number;
  w3p50: number;
}

async function trial(mode: Mode, freshPath: () => string, scale: number): Promise<TrialFigures> {
  const size = (count: number): number => Math.max(IN_FLIGHT, Math.round(count * scale));
  const restShare = mode === 'rest' ? 0.5 : 1;
  const w1Rate = await withDriver(mode, freshPath(), (d) => w1(d, size(10_000 * restShare)));
  const w2Figures = await withDriver(mode, freshPath(), (d) => w2(d, size(20_000 * restShare)));
  const w3Samples = await withDriver(mode, freshPath(), (d) => w3(d, size(500)));
  return {
    w1: w1Rate,
    w2: w2Figures.perSecond,
    w2p50: percentile(w2Figures.latenciesMs, 50),
    w3p50: percentile(w3Samples, 50),
  };
}

/** Median per figure of `TRIALS` fresh trials, after a warm-up trial of a fifth of the size. */
async function medianOfTrials(mode: Mode, freshPath: () => string, scale: number): Promise<TrialFigures> {
  await trial(mode, freshPath, scale / 5);
  const trials: TrialFigures[] = [];
  for (let i = 0; i < TRIALS; i++) trials.push(await trial(mode, freshPath, scale));
  const median = (figure: keyof TrialFigures): number =>
    percentile(
      trials.map((t) => t[figure]),
      50,
    );
  return { w1: median('w1'), w2: median('w2'), w2p50: median('w2p50'), w3p50: median('w3p50') };
}

/** The W1/W2/W3 rows, embedded and over REST. */
export async function measureWorkloads(options: { quick: boolean; freshPath: () => string }): Promise<Row[]> {
  const { freshPath } = options;
  const scale = options.quick ? 0.1 : 1;
  // Baselines first, in the same process: the median of three, like the figures beside them.
  const inserts = percentile(
    [0, 1, 2].map(() => rawInsertsPerSecond(freshPath(), 20_000, 512)),
    50,
  );
  const commitP50 = percentile(rawSingleInsertLatencyMs(freshPath(), 2_000), 50);
  const rows: Row[] = [];
  for (const mode of ['embedded', 'rest'] as const) {
    const figures = await medianOfTrials(mode, freshPath, scale);
    const who = mode === 'embedded' ? 'Weft embedded' : 'Weft over REST';
    rows.push(
      {
        metric: `W1 ${who}: 3-activity workflows completed (${IN_FLIGHT} in flight)`,
        weft: figures.w1,
        unit: '/s',
        baseline: inserts / 5,
        baselineName: 'raw batched INSERT rows/s ÷ 5',
        target: mode === 'embedded' ? '>= 15,000/s' : '>= 6,000/s',
        higherIsBetter: true,
      },
      {
        metric: `W2 ${who}: starts acknowledged (${IN_FLIGHT} in flight, runs executing)`,
        weft: figures.w2,
        unit: '/s',
        baseline: inserts,
        baselineName: 'raw batched INSERT rows/s',
        target: mode === 'embedded' ? '>= 25,000/s' : '>= 12,000/s',
        higherIsBetter: true,
      },
      {
        metric: `W2 ${who}: start p50`,
        weft: figures.w2p50,
        unit: 'ms',
        baseline: commitP50,
        baselineName: 'raw single-row commit p50 ms',
        target: mode === 'embedded' ? '<= 1 ms' : '-',
        higherIsBetter: false,
      },
      {
        metric: `W3 ${who}: signal → waiting workflow → result p50`,
        weft: figures.w3p50,
        unit: 'ms',
        baseline: commitP50,
        baselineName: 'raw single-row commit p50 ms',
        target: mode === 'embedded' ? '-' : '<= 0.8 ms',
        higherIsBetter: false,
      },
    );
  }
  return rows;
}
