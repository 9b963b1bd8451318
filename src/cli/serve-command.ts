/**
 * `weft serve`: the HTTP server on a SQLite file. Loads the workflows of a module, opens the
 * database, resumes every unfinished run, binds the API and prints `weft server listening at <url>`;
 * on SIGINT/SIGTERM it stops the server, lets in-flight activities finish, and closes the database.
 *
 * Trap it avoids: a half-started process. If binding fails (the port is taken) the engine and the
 * database it already opened are closed before the error is reported, so the lock file and WAL are
 * released for the next attempt.
 */
import { parseArgs } from 'node:util';
import { Engine } from '../engine/engine.ts';
import { DEFAULT_HOSTNAME, DEFAULT_PORT, serve, type WeftServer } from '../server/serve.ts';
import { SQLiteStorage } from '../storage/sqlite/sqlite-storage.ts';
import { loadWorkflows } from './load-workflows.ts';
import { DEFAULT_WORKFLOWS, databasePath, untilStopSignal, UsageError } from './process-lifecycle.ts';

export const SERVE_USAGE = `weft serve [--workflows <module>] [--db <path>] [--port <n>] [--hostname <address>]

  --workflows  module whose exported workflow() definitions are registered (default: ${DEFAULT_WORKFLOWS})
  --db         SQLite database file (default: $WEFT_DB or ./weft.db)
  --port       TCP port, 0 for any free one (default: ${DEFAULT_PORT})
  --hostname   address to bind (default: ${DEFAULT_HOSTNAME}; 0.0.0.0 for every interface)

  WEFT_API_KEYS                          comma-separated API keys; when set, every operation needs one
                                         (as Authorization: Bearer <key> or X-API-Key), health stays public
  WEFT_SERVER_AUTHENTICATION_REQUIRED=1  refuse to start without WEFT_API_KEYS`;

/** Keys from the environment, not from flags: a flag would show the keys to anyone who can list processes. */
function apiKeysFrom(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key.length > 0);
}

export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      workflows: { type: 'string', default: DEFAULT_WORKFLOWS },
      db: { type: 'string' },
      port: { type: 'string', default: String(DEFAULT_PORT) },
      hostname: { type: 'string', default: DEFAULT_HOSTNAME },
    },
  });
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65_535)
    throw new UsageError(`--port must be 0 to 65535, not '${values.port}'`);
  const stopped = untilStopSignal();
  const dbPath = databasePath(values.db);
  const workflows = await loadWorkflows(values.workflows);
  const storage = new SQLiteStorage(dbPath);
  let engine: Engine | undefined;
  let server: WeftServer;
  try {
    engine = await Engine.create({ storage, workflows, recover: false });
    const { recovered } = await engine.recoverAll();
    const apiKeys = apiKeysFrom(process.env['WEFT_API_KEYS']);
    server = serve({ engine, port, hostname: values.hostname, ...(apiKeys.length > 0 ? { auth: { apiKeys } } : {}) });
    console.log(
      `weft: ${dbPath}, workflows ${workflows.map((w) => w.name).join(', ')}; resumed ${recovered} unfinished run${recovered === 1 ? '' : 's'}`,
    );
  } catch (error) {
    await engine?.close();
    await storage.close();
    throw error;
  }
  console.log(`weft server listening at ${server.url}`);

  const signal = await stopped;
  console.log(`weft: ${signal}, stopping (letting in-flight activities finish)`);
  await server.stop();
  await engine.close();
  await storage.close();
  return 0;
}
