/**
 * `weft run`: hosts the engine without a network listener. It opens the database, registers the
 * workflows of a module, resumes every unfinished run and keeps running them (timers, retries)
 * until SIGINT/SIGTERM, when it closes gracefully. Events are printed as JSON lines; `--demo` also
 * starts one run of each bundled example so there is something to watch.
 */
import { parseArgs } from 'node:util';
import type { EngineEvent } from '../engine/engine-events.ts';
import { startDemo } from './demo.ts';
import { loadWorkflows } from './load-workflows.ts';
import { openEngine } from './open-engine.ts';
import { DEFAULT_WORKFLOWS, databasePath, untilStopSignal } from './process-lifecycle.ts';

export const RUN_USAGE = `weft run [--workflows <module>] [--db <path>] [--demo]

  --workflows  module whose exported workflow() definitions are registered (default: ${DEFAULT_WORKFLOWS})
  --db         SQLite database file (default: $WEFT_DB or ./weft.db)
  --demo       start one run of each bundled example workflow`;

const EVENT_TYPES = [
  'workflow:started',
  'workflow:completed',
  'workflow:failed',
  'workflow:suspended',
  'workflow:resumed',
  'workflow:cancelled',
  'workflow:timed-out',
  'engine:error',
];

export async function runCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      workflows: { type: 'string', default: DEFAULT_WORKFLOWS },
      db: { type: 'string' },
      demo: { type: 'boolean', default: false },
    },
  });
  // Before anything is printed: a supervisor that reads our first line may signal us at once.
  const stopped = untilStopSignal();
  const dbPath = databasePath(values.db);
  const workflows = await loadWorkflows(values.workflows);
  const { engine, storage } = await openEngine(dbPath, workflows);
  const print = (event: Event): void => {
    const e = event as EngineEvent;
    console.log(JSON.stringify({ seq: e.sequence, type: e.type, workflowId: e.workflowId, ...e.data }));
  };
  for (const type of EVENT_TYPES) engine.addEventListener(type, print);
  console.log(
    `weft: engine running on ${dbPath} with workflows ${workflows.map((w) => w.name).join(', ')} (Ctrl-C to stop)`,
  );
  if (values.demo) await startDemo(engine, workflows);

  await stopped;
  console.log('weft: closing (letting in-flight activities finish)');
  await engine.close();
  await storage.close();
  return 0;
}
