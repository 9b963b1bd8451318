/**
 * `bun bench/read-isolation.ts [--runs N] [--seconds S]`: what heavy reads do to commit latency on
 * one SQLite file, with reads inline on the engine's thread (`readWorker: false`) and on the read
 * worker (the default). Prints a table; docs/storage-sqlite.md quotes it.
 *
 * The store holds N runs (default 245,000, the size at which issue 20 saw 68 ms listings). Each
 * scenario opens it, runs 4 chains of awaited commits (a run + an event each, as a start commits)
 * for S seconds, and — except in the first — 2 loops that issue listings and aggregates back to
 * back: `status=suspended&type=ticket` with its total, and a count by type. Then the worker's start
 * and replacement cost: a fresh storage's first read against a warm one, and a read abandoned over
 * its budget followed by the next read.
 *
 * Traps it avoids:
 * - Measuring the fixture. Runs are written through the storage contract, 20,000 per commit, and
 *   the file is checkpointed before the scenarios open it.
 * - One scenario warming the next. Every scenario opens the file afresh, so no page cache of a
 *   connection carries over (the OS cache does, for all alike: the fixture was just written).
 */
import { Database } from 'bun:sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Mutation, RunQuery, RunStatus } from '../src/index.ts';
import { READ_WORKER } from '../src/storage/sqlite/read-worker.ts';
import { SQLiteStorage } from '../src/storage/sqlite/index.ts';
import type { SQLiteStorageOptions } from '../src/storage/sqlite/index.ts';
import { makeRunRecord } from '../src/testing/index.ts';
import { percentile } from './row.ts';

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const RUNS = arg('runs', 245_000);
const SECONDS = arg('seconds', 5);
const CHAINS = 4;
const READ_LOOPS = 2;

const dir = mkdtempSync(join(tmpdir(), 'weft-read-isolation-'));
const path = join(dir, 'store.db');

const TYPES = ['ticket', 'fanout', 'order', 'report'] as const;
const STATUSES: readonly RunStatus[] = ['completed', 'completed', 'completed', 'suspended', 'failed', 'running'];

async function buildFixture(): Promise<void> {
  const storage = new SQLiteStorage({ path, readWorker: false });
  for (let start = 0; start < RUNS; start += 20_000) {
    const batch: Mutation[] = [];
    for (let i = start; i < Math.min(RUNS, start + 20_000); i++) {
      const run = makeRunRecord({
        id: `f-${String(i).padStart(7, '0')}`,
        type: TYPES[i % TYPES.length],
        status: STATUSES[i % STATUSES.length],
        createdAt: 1_700_000_000_000 + i,
      });
      batch.push({ op: 'createRun', run });
    }
    await storage.commit(batch);
  }
  await storage.close();
  const db = new Database(path);
  db.run('PRAGMA wal_checkpoint(TRUNCATE)');
  db.close();
}

interface Scenario {
  name: string;
  options: Partial<SQLiteStorageOptions>;
  commits: boolean;
  reads: boolean;
}

interface Figures {
  commits: number;
  commitP50: number;
  commitP99: number;
  commitMax: number;
  reads: number;
  readP50: number;
  readP99: number;
}

const HEAVY_LISTING: RunQuery = { statuses: ['suspended'], types: ['ticket'] };
let unique = 0;

async function measure(scenario: Scenario): Promise<Figures> {
  const storage = new SQLiteStorage({ path, ...scenario.options });
  // Warm both connections (and start the worker) before the clock starts.
  await storage.listRuns(HEAVY_LISTING, { limit: 50 });
  const until = performance.now() + SECONDS * 1000;
  const commitLatency: number[] = [];
  const readLatency: number[] = [];
  const chain = async (): Promise<void> => {
    while (performance.now() < until) {
      const id = `c-${unique++}`;
      const started = performance.now();
      await storage.commit([
        { op: 'createRun', run: makeRunRecord({ id, status: 'running', createdAt: Date.now() }) },
        { op: 'appendEvent', event: { seq: unique, type: 'workflow:started', runId: id, at: Date.now(), data: null } },
      ]);
      commitLatency.push(performance.now() - started);
    }
  };
  const reader = async (loop: number): Promise<void> => {
    for (let i = 0; performance.now() < until; i++) {
      // Each read arrives as its own event, as an HTTP request would: an inline read that answers
      // in microtasks would otherwise never let the loop reach the commit flush at all.
      await new Promise((resolve) => setImmediate(resolve));
      const started = performance.now();
      if ((i + loop) % 2 === 0) await storage.listRuns(HEAVY_LISTING, { limit: 50 });
      else await storage.aggregateRuns('type', {}, 100);
      readLatency.push(performance.now() - started);
    }
  };
  await Promise.all([
    ...(scenario.commits ? Array.from({ length: CHAINS }, chain) : []),
    ...(scenario.reads ? Array.from({ length: READ_LOOPS }, (_, loop) => reader(loop)) : []),
  ]);
  await storage.close();
  return {
    commits: commitLatency.length / SECONDS,
    commitP50: commitLatency.length === 0 ? Number.NaN : percentile(commitLatency, 50),
    commitP99: commitLatency.length === 0 ? Number.NaN : percentile(commitLatency, 99),
    commitMax: commitLatency.length === 0 ? Number.NaN : Math.max(...commitLatency),
    reads: readLatency.length / SECONDS,
    readP50: readLatency.length === 0 ? Number.NaN : percentile(readLatency, 50),
    readP99: readLatency.length === 0 ? Number.NaN : percentile(readLatency, 99),
  };
}

/** A fresh storage's first read (spawn, open, prepare, verify, query) against the same read warm. */
async function startCost(): Promise<{ first: number; warm: number; replaced: number }> {
  const first: number[] = [];
  const warm: number[] = [];
  const replaced: number[] = [];
  const query: RunQuery = { types: ['nope'] };
  for (let i = 0; i < 10; i++) {
    const storage = new SQLiteStorage({ path, readWorker: { budgetMs: 250 } });
    let started = performance.now();
    await storage.listRuns(query, { limit: 1 });
    first.push(performance.now() - started);
    started = performance.now();
    await storage.listRuns(query, { limit: 1 });
    warm.push(performance.now() - started);
    // Abandon a read over its budget; the next read pays for the replacement worker.
    const held = storage[READ_WORKER]?.holdNextRead();
    const stuck = storage.listRuns(query, { limit: 1 }).catch(() => undefined);
    await held?.reached;
    await stuck;
    started = performance.now();
    await storage.listRuns(query, { limit: 1 });
    replaced.push(performance.now() - started);
    held?.release();
    await storage.close();
  }
  return { first: percentile(first, 50), warm: percentile(warm, 50), replaced: percentile(replaced, 50) };
}

const ms = (value: number): string => (Number.isNaN(value) ? '–' : `${value.toFixed(value < 10 ? 2 : 1)} ms`);

try {
  const built = performance.now();
  await buildFixture();
  console.log(
    `fixture: ${RUNS} runs in ${((performance.now() - built) / 1000).toFixed(1)} s; ${SECONDS} s per scenario`,
  );
  const scenarios: Scenario[] = [
    { name: 'commits, no reads', options: { readWorker: false }, commits: true, reads: false },
    { name: 'reads inline, no commits', options: { readWorker: false }, commits: false, reads: true },
    { name: 'reads on the worker, no commits', options: {}, commits: false, reads: true },
    {
      name: 'commits + reads inline (`readWorker: false`)',
      options: { readWorker: false },
      commits: true,
      reads: true,
    },
    { name: 'commits + reads on the read worker', options: {}, commits: true, reads: true },
  ];
  console.log('| scenario | commits/s | commit p50 | commit p99 | commit max | reads/s | read p50 | read p99 |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const scenario of scenarios) {
    const f = await measure(scenario);
    console.log(
      `| ${scenario.name} | ${Math.round(f.commits)} | ${ms(f.commitP50)} | ${ms(f.commitP99)} | ${ms(f.commitMax)} | ${f.reads.toFixed(1)} | ${ms(f.readP50)} | ${ms(f.readP99)} |`,
    );
  }
  const cost = await startCost();
  console.log(
    `worker: first read of a fresh storage ${ms(cost.first)} (warm ${ms(cost.warm)}); first read after a timeout replaced the worker ${ms(cost.replaced)} (medians of 10)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
