/**
 * The read worker's thread: a read-only connection to the engine's database that answers the reads
 * of `read-ops.ts`, one at a time, in the order they arrive. Started by `read-worker.ts`; never
 * imported by anything else.
 *
 * Traps it avoids:
 * - A stale snapshot. In WAL mode a connection sees the database as of the start of its read
 *   transaction, and a statement that is not reset keeps that transaction open — every later read
 *   would then miss new commits. Each read runs between an explicit `BEGIN` and `COMMIT`, so it
 *   starts a fresh snapshot (seeing every commit whose `COMMIT` returned before it began) and
 *   ends it; a listing's page and total come from that one snapshot.
 * - Pinning the WAL. A reader holding an old snapshot keeps the checkpointer from reusing the
 *   WAL past it, so the WAL grows while a read runs. The caller's budget bounds how long that is.
 * - Dropping the engine's locks. POSIX drops every `fcntl` lock a process holds on a file when any
 *   descriptor to it closes; SQLite shares one inode record between all its connections in the
 *   process and defers such closes, so a second SQLite connection is safe. The owner lock file
 *   (`<path>.lock`) is never opened here.
 * - Writing by accident. The connection is opened `readonly`; the write statements prepared with
 *   the rest are never stepped.
 */
import { Database } from 'bun:sqlite';
import { BUSY_TIMEOUT_MS } from './open-database.ts';
import type { ReadArgs, ReadConnection, ReadOp } from './read-ops.ts';
import { runReadOp } from './read-ops.ts';
import type { FromReader, ToReader } from './read-worker-protocol.ts';
import { Gate, toReadFailure } from './read-worker-protocol.ts';
import { finalizeStatements, prepareStatements } from './sqlite-statements.ts';
import { StatementCache } from './statement-cache.ts';

declare const self: Worker;

interface Reader extends ReadConnection {
  db: Database;
  begin: ReturnType<Database['prepare']>;
  commit: ReturnType<Database['prepare']>;
}

let reader: Reader | undefined;

const post = (message: FromReader): void => self.postMessage(message);

self.addEventListener('message', (event: MessageEvent<ToReader>) => {
  const message = event.data;
  switch (message.kind) {
    case 'open':
      open(message.path);
      break;
    case 'read':
      answer(message);
      break;
    case 'close':
      close();
      process.exit(0);
  }
});

function open(path: string): void {
  let db: Database | undefined;
  try {
    db = new Database(path, { readonly: true, strict: true });
    db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Sorts and GROUP BYs of large listings build temporary b-trees: in memory, not in a temp file.
    db.run('PRAGMA temp_store = MEMORY');
    const mode = db.query<{ journal_mode: string }, []>('PRAGMA journal_mode').get()?.journal_mode;
    // Without WAL a reader would block the writer (and be blocked by it): then reads stay inline.
    if (mode !== 'wal') throw new Error(`journal_mode is '${String(mode)}', not 'wal'`);
    const statements = prepareStatements(db);
    reader = {
      db,
      statements,
      queries: new StatementCache(db),
      begin: db.prepare('BEGIN DEFERRED'),
      commit: db.prepare('COMMIT'),
    };
    post({ kind: 'ready', identity: runReadOp(reader, 'identity', []) });
  } catch (error) {
    db?.close();
    post({ kind: 'unavailable', message: error instanceof Error ? error.message : String(error) });
  }
}

function answer(message: Extract<ToReader, { kind: 'read' }>): void {
  const { id, op, args, gate } = message;
  if (reader === undefined) {
    post({ kind: 'failed', id, error: toReadFailure(new Error('The read worker has no open database')) });
    return;
  }
  try {
    reader.begin.run();
    const value = runReadOp(reader, op, args as ReadArgs<ReadOp>);
    if (gate !== undefined) hold(id, gate);
    reader.commit.run();
    post({ kind: 'done', id, value });
  } catch (error) {
    if (reader.db.inTransaction) reader.db.run('ROLLBACK');
    post({ kind: 'failed', id, error: toReadFailure(error) });
  }
}

/** Test seam: waits inside the read transaction until the test releases the gate (or asks for a crash). */
function hold(id: number, gate: SharedArrayBuffer): void {
  const state = new Int32Array(gate);
  post({ kind: 'held', id });
  while (Atomics.load(state, 0) === Gate.hold) Atomics.wait(state, 0, Gate.hold);
  // An abrupt death, as an out-of-memory abort or a native fault would be.
  if (Atomics.load(state, 0) === Gate.crash) process.exit(70);
}

function close(): void {
  if (reader === undefined) return;
  reader.begin.finalize();
  reader.commit.finalize();
  reader.queries.finalizeAll();
  finalizeStatements(reader.statements);
  reader.db.close();
  reader = undefined;
}
