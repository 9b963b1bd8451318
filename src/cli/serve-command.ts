/**
 * `weft serve`: the HTTP server on a SQLite file. Loads the workflows of a module, opens the
 * database, resumes every unfinished run, binds the API and prints `weft server listening at <url>`;
 * on SIGINT/SIGTERM it stops the server, lets in-flight activities finish, and closes the database.
 *
 * Traps it avoids:
 * - A half-started process. If binding fails (the port is taken) the engine and the database it
 *   already opened are closed before the error is reported, so the lock file and WAL are released
 *   for the next attempt.
 * - An open server by accident. `WEFT_API_KEYS` set but empty (`''`, `' , ,'`) or malformed is
 *   refused before anything is opened, never read as "no keys".
 * - A warning that speaks to the wrong reader. Without keys the CLI tells `serve()` the open server
 *   is intended and prints the warning itself, naming the environment variables instead of
 *   `serve({ auth })`.
 */
import { parseArgs } from 'node:util';
import { Engine } from '../engine/engine.ts';
import { DEFAULT_HOSTNAME, DEFAULT_PORT, serve, type WeftServer } from '../server/serve.ts';
import { AUTHENTICATION_REQUIRED_ENV, openAccessWarning } from '../server/security/unauthenticated-access.ts';
import { SQLiteStorage } from '../storage/sqlite/sqlite-storage.ts';
import { environmentList } from './environment-list.ts';
import { loadWorkflows } from './load-workflows.ts';
import { DEFAULT_WORKFLOWS, databasePath, untilStopSignal, UsageError } from './process-lifecycle.ts';

export const SERVE_USAGE = `weft serve [--workflows <module>] [--db <path>] [--port <n>] [--hostname <address>]
           [--allowed-host <host>]...

  --workflows     module whose exported workflow() definitions are registered (default: ${DEFAULT_WORKFLOWS})
  --db            SQLite database file (default: $WEFT_DB or ./weft.db)
  --port          TCP port, 0 for any free one (default: ${DEFAULT_PORT})
  --hostname      address to bind (default: ${DEFAULT_HOSTNAME}; 0.0.0.0 for every interface)
  --allowed-host  a Host name to answer besides loopback ones, e.g. weft.internal (repeatable;
                  default: $WEFT_ALLOWED_HOSTS, comma-separated)

  WEFT_API_KEYS                          comma-separated API keys; when set, every operation needs one
                                         (as Authorization: Bearer <key> or X-API-Key), health stays public;
                                         set but empty or with an empty entry, the server refuses to start
  ${AUTHENTICATION_REQUIRED_ENV}=1  refuse to start without WEFT_API_KEYS`;

const API_KEYS_ENV = 'WEFT_API_KEYS';
const ALLOWED_HOSTS_ENV = 'WEFT_ALLOWED_HOSTS';
/** What a key may hold: visible ASCII without spaces, so it travels unchanged in an HTTP header. */
const KEY_CHARACTERS = /^[\x21-\x7e]+$/;

/**
 * Keys from the environment, not from flags: a flag would show the keys to anyone who can list
 * processes. `undefined` when unset; a set-but-empty or malformed list is a `UsageError`.
 */
function apiKeysFrom(env: Record<string, string | undefined>): string[] | undefined {
  const keys = environmentList(API_KEYS_ENV, env);
  const bad = keys?.findIndex((key) => !KEY_CHARACTERS.test(key)) ?? -1;
  if (keys !== undefined && bad !== -1) {
    throw new UsageError(
      `${API_KEYS_ENV} entry ${bad + 1} of ${keys.length} is not a key: keys are visible ASCII without spaces`,
    );
  }
  return keys;
}

/** The remedy lines of the open-server warning, for a CLI user (environment, not `serve()` options). */
const CLI_OPEN_ACCESS_REMEDY = [
  `set ${API_KEYS_ENV}=<key>[,<key>...] to require an API key on every operation, and`,
  `${AUTHENTICATION_REQUIRED_ENV}=1 to refuse to start without one.`,
];

export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      workflows: { type: 'string', default: DEFAULT_WORKFLOWS },
      db: { type: 'string' },
      port: { type: 'string', default: String(DEFAULT_PORT) },
      hostname: { type: 'string', default: DEFAULT_HOSTNAME },
      'allowed-host': { type: 'string', multiple: true },
    },
  });
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65_535)
    throw new UsageError(`--port must be 0 to 65535, not '${values.port}'`);
  const apiKeys = apiKeysFrom(process.env);
  const allowedHosts = values['allowed-host'] ?? environmentList(ALLOWED_HOSTS_ENV);
  const stopped = untilStopSignal();
  const dbPath = databasePath(values.db);
  const workflows = await loadWorkflows(values.workflows);
  const storage = new SQLiteStorage(dbPath);
  let engine: Engine | undefined;
  let server: WeftServer;
  try {
    engine = await Engine.create({ storage, workflows, recover: false });
    const { recovered } = await engine.recoverAll();
    server = serve({
      engine,
      port,
      hostname: values.hostname,
      // Back-pressure watches the SQLite commit queue as well as event-loop lag (defaults).
      overload: { storage },
      // Absent, not empty, when not given: serve() reads an empty list as "answer no other host".
      ...(allowedHosts === undefined ? {} : { allowedHosts }),
      ...(apiKeys === undefined ? { unauthenticatedAccess: 'allow' as const } : { auth: { apiKeys } }),
    });
    if (apiKeys === undefined) console.warn(openAccessWarning(server.url, CLI_OPEN_ACCESS_REMEDY));
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
