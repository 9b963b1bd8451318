/**
 * The process the crash test kills. It opens the SQLite database, recovers, (re)starts the runs
 * and sends the signals it has no acknowledgement for, and exits when every run has finished.
 *
 * Files it shares with the test (all append-only, one fact per line):
 * - ledger: `<incarnation> <idempotencyKey>` for every activity execution, written when the
 *   activity runs — the side effect whose repetitions the test counts;
 * - acks: `start <id>` / `signal <id>` / `update <id>` written only after the engine acknowledged
 *   the call, so the test knows which acknowledged operations must survive a kill.
 *
 * Each run also sets a search attribute, writes token-stream chunks, takes one update (with an
 * idempotency key, resent after a kill until acknowledged) and starts a child run: the test checks
 * that each of those happened exactly once in the stored data.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { Engine, signal, workflow } from '../../src/index.ts';
import { SQLiteStorage } from '../../src/storage/sqlite/index.ts';

const [dbPath, ledgerPath, acksPath, incarnationArg, runCountArg] = process.argv.slice(2);
if (!dbPath || !ledgerPath || !acksPath || !incarnationArg || !runCountArg) {
  throw new Error('usage: crash-worker <db> <ledger> <acks> <incarnation> <runs>');
}
const incarnation = Number(incarnationArg);
const runCount = Number(runCountArg);

const go = signal<number>('go');
export const LANES = 4;

const effect = async (input: number, actx: { idempotencyKey: string }): Promise<number> => {
  appendFileSync(ledgerPath, `${incarnation} ${actx.idempotencyKey}\n`);
  await new Promise((resolve) => setTimeout(resolve, 12));
  return input + 1;
};

export const kid = workflow({ name: 'kid', version: '1' }).execute(async function* (ctx, n: number) {
  yield* ctx.sleep(15);
  return n * 2;
});

export const crashy = workflow({ name: 'crashy', version: '1' })
  .activities({ effect })
  .execute(async function* (ctx, n: number) {
    let bumped = 0;
    ctx.onUpdate('bump', (by: number) => (bumped += by));
    ctx.setAttribute('lane', n % 4);
    ctx.stream.write(`begin-${n}`);
    const child = ctx.startChild<number>('kid', n);
    const a = yield* ctx.run('effect', n);
    yield* ctx.sleep(10 + (n % 3) * 10);
    const bonus = yield* ctx.waitForSignal(go);
    ctx.stream.write(`signalled-${n}`);
    const [b, c] = yield* ctx.all([ctx.run('effect', a), ctx.run('effect', a + 10)]);
    yield* ctx.sleep(5);
    let d = b + c;
    for (let i = 0; i < 3; i++) d = yield* ctx.run('effect', d);
    const doubled = yield* child.result();
    ctx.stream.write(`end-${n}`);
    return d + bonus + bumped + doubled;
  });

const acked = new Set(existsSync(acksPath) ? readFileSync(acksPath, 'utf8').split('\n').filter(Boolean) : []);
const ack = (line: string): void => appendFileSync(acksPath, `${line}\n`);

const storage = new SQLiteStorage(dbPath);
// WEFT_CRASH_EVICT=1: every suspended run leaves memory, so each wake-up is a rebuild from the journal.
const evict = process.env.WEFT_CRASH_EVICT === '1';
const engine = await Engine.create({
  storage,
  workflows: [crashy, kid],
  ...(evict ? { maxSuspendedInMemory: 0 } : {}),
});
console.log('ready');

async function runOne(i: number): Promise<unknown> {
  const id = `run-${i}`;
  // An acknowledged start is never issued again: if the run were lost, result() would reject
  // with workflow_not_found and this process would fail, instead of quietly starting it anew.
  let handle = engine.handle(id);
  if (!acked.has(`start ${id}`)) {
    handle = await engine.start(crashy, i, { id, idempotencyKey: `key-${i}` });
    ack(`start ${id}`);
  }
  if (!acked.has(`update ${id}`)) {
    // The same key after a kill: applied once, whether or not the first attempt got through.
    const outcome = await engine.update(id, 'bump', 100_000, { idempotencyKey: `bump-${i}` });
    if (outcome.status !== 'completed' || outcome.result !== 100_000) throw new Error(`bad update outcome`);
    ack(`update ${id}`);
  }
  if (!acked.has(`signal ${id}`)) {
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 10));
    await engine.signal(id, go, 1000 * i);
    ack(`signal ${id}`);
  }
  return handle.result();
}

// LANES runs at a time, each lane working through its runs in order: enough concurrency to
// exercise group commit, and enough sequential work that the kills land all along the way.
const results: unknown[] = new Array(runCount);
await Promise.all(
  Array.from({ length: LANES }, async (_, lane) => {
    for (let i = lane; i < runCount; i += LANES) results[i] = await runOne(i);
  }),
);
console.log(`done ${JSON.stringify(results)}`);
await engine.close();
await storage.close();
