/**
 * Where a client command sends its requests: a server (`--url`, else `$WEFT_URL`, else
 * http://127.0.0.1:3000, with the API key of `$WEFT_API_KEY`), or a SQLite database opened in this
 * process (`--db`). Both are an `HttpClient`: over `--db` its `fetch` is the server's own
 * `handleRequest` on an engine over the file, so every command gets the same answers, JSON and
 * error codes either way.
 *
 * Traps it avoids:
 * - A read that runs the database's workflows. The direct engine registers no workflow and is
 *   created with `recover: false`: it resumes nothing, and a run it cannot find a definition for
 *   is never woken, so nothing of the database's code executes in this process.
 * - Two owners of one file. SQLite's owner lock already refuses a second opener; the refusal is
 *   reworded to say a server holds the database and to use `--url` instead.
 * - An empty key read as "no key", and a key on the command line: the key comes from the
 *   environment only (a flag would show it in process listings), and a set-but-empty one is refused.
 * - A typo that creates a database. `--db` must name an existing file; opening would create one.
 */
import { existsSync } from 'node:fs';
import { WeftError } from '../../core/errors.ts';
import { HttpClient } from '../../client/http-client.ts';
import { CliError, ExitCode, usageError } from './exit-codes.ts';

/** The server a command talks to when neither `--url`, `$WEFT_URL` nor `--db` is given. */
export const DEFAULT_URL = 'http://127.0.0.1:3000';
export const URL_ENV = 'WEFT_URL';
export const API_KEY_ENV = 'WEFT_API_KEY';

/** The `parseArgs` options every client command takes. */
export const CONNECTION_OPTIONS = {
  url: { type: 'string' },
  db: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

/** A client and how to let go of what it opened. */
export interface Connection {
  client: HttpClient;
  /** Where requests go, for messages: the server's URL or the database's path. */
  target: string;
  /** Whether this is a database opened in this process (nothing runs its workflows meanwhile). */
  direct: boolean;
  /** Whether an API key is sent (for the hint after a refusal). */
  withKey: boolean;
  close(): Promise<void>;
}

export interface ConnectOptions {
  url?: string | undefined;
  db?: string | undefined;
  env?: Record<string, string | undefined>;
}

/**
 * Opens the connection the flags and environment name.
 *
 * @example
 * const connection = await connect({ url: values.url, db: values.db });
 * try { await connection.client.getWorkflow({ id }) } finally { await connection.close() }
 */
export async function connect(options: ConnectOptions): Promise<Connection> {
  const env = options.env ?? process.env;
  if (options.url !== undefined && options.db !== undefined) throw usageError('give --url or --db, not both');
  if (options.db !== undefined) return openDatabase(options.db);
  const base = options.url ?? env[URL_ENV] ?? DEFAULT_URL;
  const source = options.url === undefined && env[URL_ENV] !== undefined ? URL_ENV : '--url';
  const parsed = URL.parse(base);
  if (parsed === null || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw usageError(`${source} must be an http:// or https:// URL, not '${base}'`);
  }
  const key = env[API_KEY_ENV];
  if (key !== undefined && key.trim() === '') {
    throw usageError(`${API_KEY_ENV} is set but empty: set it to a key, or unset it to send none`);
  }
  const client = new HttpClient({
    baseUrl: base,
    fetch: reachable(base),
    ...(key === undefined ? {} : { credential: key.trim() }),
  });
  return { client, target: base, direct: false, withKey: key !== undefined, close: async () => undefined };
}

/** `fetch`, with a connection failure reported as `unreachable` and the URL it tried. */
function reachable(base: string): (request: Request) => Promise<Response> {
  return async (request) => {
    try {
      return await fetch(request);
    } catch (error) {
      // An abort is the caller stopping (a feed's signal, Ctrl-C), not a server that is away.
      if (request.signal.aborted) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new CliError(
        'unreachable',
        `cannot reach ${base} (${reason}); is a server running there? (--url or ${URL_ENV} names it)`,
        ExitCode.failed,
      );
    }
  };
}

async function openDatabase(path: string): Promise<Connection> {
  if (!existsSync(path)) {
    throw new CliError('database_not_found', `no database at '${path}' (weft serve creates one)`, ExitCode.notFound);
  }
  // Loaded here: a command that asks a server needs none of the engine, the handler or SQLite.
  const [{ Engine }, { handleRequest }, { SQLiteStorage }] = await Promise.all([
    import('../../engine/engine.ts'),
    import('../../server/handler.ts'),
    import('../../storage/sqlite/sqlite-storage.ts'),
  ]);
  let storage: InstanceType<typeof SQLiteStorage>;
  try {
    // Inline reads: a one-shot command has no commits for a read worker to keep unblocked.
    storage = new SQLiteStorage({ path, readWorker: false });
  } catch (error) {
    if (error instanceof WeftError && error.code === 'storage_locked') {
      throw new CliError(
        error.code,
        `${error.message.replace(/ Stop that process.*$/, '')} A server (weft serve, weft run or weft mcp) holds it: send the command to that server with --url instead of --db.`,
        ExitCode.failed,
      );
    }
    throw error;
  }
  let engine: InstanceType<typeof Engine>;
  try {
    engine = await Engine.create({ storage, recover: false, shutdownGracePeriod: 0 });
  } catch (error) {
    await storage.close();
    throw error;
  }
  const client = new HttpClient({ baseUrl: 'http://weft.direct', fetch: (request) => handleRequest(request, engine) });
  return {
    client,
    target: path,
    direct: true,
    withKey: false,
    close: async () => {
      await engine.close();
      await storage.close();
    },
  };
}

/**
 * Refuses `--db` for what needs a running host: `what` and why, e.g.
 * `refuseDirect(db, '--wait', WAITING)`. Exit 2, code `needs_server`.
 */
export function refuseDirect(db: string | undefined, what: string, why: string): void {
  if (db === undefined) return;
  throw new CliError(
    'needs_server',
    `${what} needs a server: ${why}. Serve the database (npx weft serve --db ${db}) and use --url.`,
    ExitCode.usage,
  );
}

/** Why a command that waits for a run or for events cannot use `--db`. */
export const NOTHING_RUNS = 'with --db this command holds the database, so nothing runs its workflows meanwhile';
