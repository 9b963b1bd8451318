/**
 * The workflows of the real-time end-to-end tests, and — run as a script — the server process the
 * slow-consumer test measures.
 *
 * As a module it is what `weft serve --workflows` loads in realtime-restart.test.ts: only its
 * workflow exports count, nothing starts. As a script it serves the same workflows on a SQLite file
 * with the real-time limits given on the command line (the CLI has no flag for them) and answers a
 * `memory` line on stdin with its own figures — a process of its own, so the test runner's
 * allocations never show in them, measured from inside so no endpoint is added to the server.
 *
 * Usage: bun realtime-server-worker.ts <db path> [<realtime limits as JSON>]
 * Prints `listening <url>` once serving, `memory <rss> <peak rss> <heap>` (bytes) per `memory` line
 * read, and exits 0 after SIGTERM once the server, the engine and the database are closed.
 */
import { createInterface } from 'node:readline';
import { Engine, signal, workflow } from '../../src/index.ts';
import { serve } from '../../src/server/index.ts';
import { SQLiteStorage } from '../../src/storage/sqlite/index.ts';

/** Moves a `chatty` run on to its next round. */
export const advance = signal<number>('advance');

/** Token chunks a `chatty` round writes: half before its timer, half after. */
export const TOKENS_PER_ROUND = 6;

/**
 * Stream chunks and state changes across timers and signals: each round writes tokens, sleeps,
 * writes more and waits for `advance` (suspended, resumed, suspended, resumed), then a last chunk.
 * Workflow writes are journaled steps, so the chunks are the same whatever kills the process.
 */
export const chatty = workflow({ name: 'chatty' }).execute(async function* (ctx, rounds: number) {
  for (let round = 1; round <= rounds; round++) {
    for (let token = 0; token < TOKENS_PER_ROUND / 2; token++) ctx.stream.write({ round, token });
    yield* ctx.sleep(5);
    for (let token = TOKENS_PER_ROUND / 2; token < TOKENS_PER_ROUND; token++) ctx.stream.write({ round, token });
    yield* ctx.waitForSignal(advance);
  }
  ctx.stream.write('end');
  return rounds;
});

/** Lets a `firehose` run start writing. */
export const open = signal('open');

/**
 * `count` chunks of `bytes` characters each, written by an activity one commit at a time (as a
 * model's tokens would be), once `open` arrives: nothing but the stream's readers holds them.
 */
export const firehose = workflow({ name: 'firehose' })
  .activities({
    pour: async (input: { count: number; bytes: number }, actx) => {
      for (let n = 1; n <= input.count; n++) await actx.stream.write(`${n}:`.padEnd(input.bytes, '.'));
      return input.count;
    },
  })
  .execute(async function* (ctx, input: { count: number; bytes: number }) {
    yield* ctx.waitForSignal(open);
    return yield* ctx.run('pour', input);
  });

if (import.meta.main) {
  const [dbPath, limitsArg] = process.argv.slice(2);
  if (dbPath === undefined) throw new Error('usage: realtime-server-worker <db> [<realtime limits JSON>]');
  const stopped = Promise.withResolvers<void>();
  process.once('SIGTERM', () => stopped.resolve());
  const storage = new SQLiteStorage(dbPath);
  const engine = await Engine.create({ storage, workflows: [chatty, firehose] });
  const server = serve({
    engine,
    port: 0,
    unauthenticatedAccess: 'allow',
    realtime: limitsArg === undefined ? {} : (JSON.parse(limitsArg) as Record<string, number>),
  });
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line !== 'memory') return;
    Bun.gc(true);
    const { rss, heapUsed } = process.memoryUsage();
    // maxRSS is in KiB.
    console.log(`memory ${rss} ${process.resourceUsage().maxRSS * 1024} ${heapUsed}`);
  });
  console.log(`listening ${server.url}`);
  await stopped.promise;
  lines.close();
  await server.stop();
  await engine.close();
  await storage.close();
  process.exit(0);
}
