#!/usr/bin/env bun
/**
 * The `weft` command line, the composition root that picks the SQLite adapter.
 *
 * `weft run` hosts the engine: it opens the database, registers the workflows of a module,
 * resumes every unfinished run and keeps running them (timers, retries) until SIGINT/SIGTERM,
 * when it closes gracefully. Events are printed as JSON lines. `--demo` also starts one run of
 * each example workflow so there is something to watch. The HTTP server (`weft serve`) is built
 * on top of this with the server issue.
 */
import { parseArgs } from 'node:util';
import { Engine } from '../engine/engine.ts';
import type { EngineEvent } from '../engine/engine-events.ts';
import { SQLiteStorage } from '../storage/sqlite/sqlite-storage.ts';
import { loadWorkflows } from './load-workflows.ts';
import { startDemo } from './demo.ts';

const USAGE = `usage: weft run [--workflows <module>] [--db <path>] [--demo]

  --workflows  module whose exported workflow() definitions are registered (default: examples/workflows.ts)
  --db         SQLite database file (default: $WEFT_DB or ./weft.db)
  --demo       start one run of each bundled example workflow`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      workflows: { type: 'string', default: 'examples/workflows.ts' },
      db: { type: 'string' },
      demo: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals[0] !== 'run') {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  // Before anything is printed: a supervisor that reads our first line may signal us at once.
  const stopped = Promise.withResolvers<void>();
  process.once('SIGINT', () => stopped.resolve());
  process.once('SIGTERM', () => stopped.resolve());
  const dbPath = values.db ?? process.env.WEFT_DB ?? './weft.db';
  const workflows = await loadWorkflows(values.workflows);
  const storage = new SQLiteStorage(dbPath);
  const engine = await Engine.create({ storage, workflows }).catch(async (error: unknown) => {
    await storage.close();
    throw error;
  });
  const print = (event: Event): void => {
    const e = event as EngineEvent;
    console.log(JSON.stringify({ seq: e.sequence, type: e.type, workflowId: e.workflowId, ...e.data }));
  };
  for (const type of [
    'workflow:started',
    'workflow:completed',
    'workflow:failed',
    'workflow:suspended',
    'workflow:resumed',
    'workflow:cancelled',
    'workflow:timed-out',
    'engine:error',
  ]) {
    engine.addEventListener(type, print);
  }
  console.log(
    `weft: engine running on ${dbPath} with workflows ${workflows.map((w) => w.name).join(', ')} (Ctrl-C to stop)`,
  );
  if (values.demo) await startDemo(engine, workflows);

  await stopped.promise;
  console.log('weft: closing (letting in-flight activities finish)');
  await engine.close();
  await storage.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`weft: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
