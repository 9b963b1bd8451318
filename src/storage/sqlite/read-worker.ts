/**
 * `SQLiteStorage`'s read worker, the engine's side: runs the reads of `read-ops.ts` (listings,
 * aggregates, event pages) on a Bun `Worker` with its own read-only connection to the same file, so
 * a read that scans half the store never holds the thread that writes every step's commit.
 *
 * Traps it avoids:
 * - A read missing an acknowledged commit. A read is posted only when it is called, and the worker
 *   begins its snapshot only when the message arrives; a commit whose promise resolved had its
 *   `COMMIT` return before that, so the read sees it (WAL: a read transaction sees every commit
 *   that finished before it began). `read-worker.test.ts` proves it with reads issued right after
 *   awaited commits.
 * - A wedged worker. `bun:sqlite` cannot interrupt a statement, so a read over its budget is
 *   rejected with `ReadTimeoutError` and the worker is terminated and replaced (2–20 ms, measured
 *   in docs/storage-sqlite.md); the reads queued behind it are posted again to the new worker with
 *   their own deadlines. A terminated thread still finishes the SQLite statement it is in before
 *   it exits: the budget bounds the caller's wait, not that statement's CPU.
 * - A crash failing everyone. If the worker dies (a native fault, an abort), only the read it was
 *   running fails, with `StorageReadFailedError`; the others go to a new worker.
 * - A second connection that cannot see the data. The worker proves it opened the same database
 *   (the owner record this process wrote at open reads the same on both connections); when it
 *   cannot open the file, or sees another one, every read runs inline from then on.
 * - Holding the process open. The worker is `unref`'d; a pending read's budget timer is what keeps
 *   the process alive while someone waits for an answer.
 */
import { InvalidArgumentError, ReadTimeoutError, WeftError } from '../../core/errors.ts';
import { StorageClosedError } from '../storage-closed-error.ts';
import type { ReadArgs, ReadOp, ReadResult } from './read-ops.ts';
import type { FromReader, ToReader } from './read-worker-protocol.ts';
import { fromReadFailure, Gate } from './read-worker-protocol.ts';
import { isCorruption, StorageCorruptError } from './sqlite-errors.ts';

export interface ReadWorkerOptions {
  /**
   * How long a read may take, from the call to its answer (waiting behind other reads included),
   * before it is abandoned with `ReadTimeoutError` (code `read_timeout`). Default 5,000 ms;
   * `Infinity` for none.
   */
  budgetMs?: number;
}

export const DEFAULT_READ_BUDGET_MS = 5_000;
/**
 * How long `close()` waits for the worker to close its connection and exit before terminating it:
 * an idle one exits at once (the margin is for a loaded machine); a busy one would first finish its
 * read, which nobody waits for any more.
 */
const IDLE_CLOSE_GRACE_MS = 2_000;
const BUSY_CLOSE_GRACE_MS = 100;
const WORKER_URL = new URL('./read-worker-entry.ts', import.meta.url).href;

/** Runs a read on the engine's own connection: where reads go when there is no usable worker. */
export type InlineReader = <K extends ReadOp>(op: K, args: ReadArgs<K>) => ReadResult<K>;

/** Counters for tests and benchmarks; they only grow. */
export interface ReadWorkerStats {
  /** Workers started (the first one included). */
  spawned: number;
  /** Reads the worker answered. */
  answered: number;
  /** Reads run inline because no worker could read the database. */
  inline: number;
  timedOut: number;
  /** Workers that died on their own. */
  crashed: number;
}

/** Test seam: a read stopped inside the worker, in its read transaction, until released. */
export interface HeldRead {
  /** Resolves once the worker has run the read's queries and waits. */
  readonly reached: Promise<void>;
  release(): void;
  /** Makes the worker exit abruptly from inside the read, as a native fault would. */
  crash(): void;
}

/** The key of `SQLiteStorage`'s read worker, for tests; not part of the package's exports. */
export const READ_WORKER: unique symbol = Symbol('weft.sqlite.readWorker');

/**
 * The read worker dies while running this read (a native fault, an aborted thread). The reads
 * queued behind it are answered by a new worker; only this one fails.
 *
 * @example
 * await storage.listRuns(query, { limit: 50 }); // if the read worker dies meanwhile: code 'storage_read_failed'
 */
export class StorageReadFailedError extends WeftError {
  constructor(reason: string) {
    super('storage_read_failed', `The read worker died while running this read (${reason})`, {
      details: { reason },
    });
  }
}

interface Pending {
  id: number;
  op: ReadOp;
  /** `ReadArgs` of `op`; the pairing is checked where a read is issued (`run`). */
  args: readonly unknown[];
  outcome: PromiseWithResolvers<unknown>;
  timer: ReturnType<typeof setTimeout> | undefined;
  hold?: { gate: SharedArrayBuffer; reached: PromiseWithResolvers<void> };
}

const WHAT: Readonly<Record<ReadOp, string>> = {
  identity: 'A read',
  listRuns: 'A listing of runs',
  aggregateRuns: 'An aggregate of runs',
  readEvents: 'A page of events',
};

export class ReadWorker {
  readonly #path: string;
  readonly #budgetMs: number;
  readonly #inline: InlineReader;
  /** Reads sent and not answered, in the order they were sent: the first is the one running. */
  readonly #pending = new Map<number, Pending>();
  readonly #stats: ReadWorkerStats = { spawned: 0, answered: 0, inline: 0, timedOut: 0, crashed: 0 };
  #worker: Worker | undefined;
  /** The current worker said it opened the same database. */
  #ready = false;
  /** No worker can read the database: every read runs inline. */
  #inlineOnly = false;
  #closed = false;
  #nextId = 1;
  #nextHold: Pending['hold'];

  constructor(path: string, options: ReadWorkerOptions, inline: InlineReader) {
    const budgetMs = options.budgetMs ?? DEFAULT_READ_BUDGET_MS;
    if (typeof budgetMs !== 'number' || !(budgetMs > 0)) {
      throw new InvalidArgumentError(`readWorker.budgetMs must be a positive number of milliseconds, not ${budgetMs}`);
    }
    this.#path = path;
    this.#budgetMs = budgetMs;
    this.#inline = inline;
  }

  get stats(): Readonly<ReadWorkerStats> {
    return { ...this.#stats };
  }

  /** Whether a worker thread is started and not known to have exited. */
  get running(): boolean {
    return this.#worker !== undefined;
  }

  /** Whether reads run inline because no worker could read the database. */
  get inlineOnly(): boolean {
    return this.#inlineOnly;
  }

  /** Runs `op` on the worker; rejects with `ReadTimeoutError` when it outlasts the budget. */
  run<K extends ReadOp>(op: K, args: ReadArgs<K>): Promise<ReadResult<K>> {
    if (this.#closed) return Promise.reject(new StorageClosedError());
    if (this.#inlineOnly) return this.#runInline(op, args);
    const id = this.#nextId++;
    const outcome = Promise.withResolvers<unknown>();
    const timer = Number.isFinite(this.#budgetMs)
      ? setTimeout(() => this.#timeOut(id), Math.min(this.#budgetMs, 2 ** 31 - 1))
      : undefined;
    const request: Pending = { id, op, args, outcome, timer };
    if (this.#nextHold !== undefined) {
      request.hold = this.#nextHold;
      this.#nextHold = undefined;
    }
    this.#pending.set(id, request);
    this.#send(request);
    return outcome.promise as Promise<ReadResult<K>>;
  }

  /** Test seam: the next read runs its queries in the worker, then waits there until released. */
  holdNextRead(): HeldRead {
    const gate = new SharedArrayBuffer(4);
    const state = new Int32Array(gate);
    const reached = Promise.withResolvers<void>();
    // Rejected only if the read ends up inline; a test that never awaits it must not see that as unhandled.
    reached.promise.catch(() => undefined);
    this.#nextHold = { gate, reached };
    const set = (value: number): void => {
      Atomics.store(state, 0, value);
      Atomics.notify(state, 0);
    };
    return { reached: reached.promise, release: () => set(Gate.release), crash: () => set(Gate.crash) };
  }

  /**
   * Rejects the reads still waiting with `StorageClosedError`, lets the worker close its connection
   * and exit (terminating it if it does not within a short grace), and waits for that.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const grace = this.#pending.size === 0 ? IDLE_CLOSE_GRACE_MS : BUSY_CLOSE_GRACE_MS;
    for (const request of this.#pending.values()) {
      clearTimeout(request.timer);
      request.outcome.reject(new StorageClosedError());
    }
    this.#pending.clear();
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker === undefined) return;
    const exited = new Promise<boolean>((resolve) => worker.addEventListener('close', () => resolve(true)));
    worker.postMessage({ kind: 'close' } satisfies ToReader);
    if (await within(exited, grace)) return;
    // Busy (or held): terminate. A thread inside a SQLite statement exits when the statement returns.
    worker.terminate();
    await within(exited, BUSY_CLOSE_GRACE_MS);
  }

  #send(request: Pending): void {
    const worker = this.#worker ?? this.#spawn();
    const message: ToReader = { kind: 'read', id: request.id, op: request.op, args: request.args };
    if (request.hold !== undefined) message.gate = request.hold.gate;
    worker.postMessage(message);
  }

  #spawn(): Worker {
    const worker = new Worker(WORKER_URL);
    worker.unref();
    worker.addEventListener('message', (event: MessageEvent<FromReader>) => {
      if (worker === this.#worker) this.#onMessage(event.data);
    });
    worker.addEventListener('error', (event: ErrorEvent) => {
      if (worker === this.#worker) this.#onDeath(worker, event.message);
    });
    worker.addEventListener('close', (event: Event) => {
      if (worker === this.#worker) this.#onDeath(worker, `exit code ${String((event as { code?: unknown }).code)}`);
    });
    worker.postMessage({ kind: 'open', path: this.#path } satisfies ToReader);
    this.#worker = worker;
    this.#ready = false;
    this.#stats.spawned += 1;
    return worker;
  }

  #onMessage(message: FromReader): void {
    switch (message.kind) {
      case 'ready':
        if (message.identity !== null && message.identity === this.#inline('identity', [])) this.#ready = true;
        else this.#fallBackInline();
        return;
      case 'unavailable':
        this.#fallBackInline();
        return;
      case 'held':
        this.#pending.get(message.id)?.hold?.reached.resolve();
        return;
      case 'done':
      case 'failed': {
        const request = this.#pending.get(message.id);
        // Abandoned (over its budget) while queued: its answer is no longer wanted.
        if (request === undefined) return;
        this.#pending.delete(message.id);
        clearTimeout(request.timer);
        this.#stats.answered += 1;
        if (message.kind === 'done') request.outcome.resolve(message.value);
        else request.outcome.reject(this.#toError(fromReadFailure(message.error)));
      }
    }
  }

  #timeOut(id: number): void {
    const request = this.#pending.get(id);
    if (request === undefined) return;
    // The worker answers in order, so the oldest read is the one it is stuck on.
    const running = this.#pending.keys().next().value === id;
    this.#pending.delete(id);
    this.#stats.timedOut += 1;
    request.outcome.reject(new ReadTimeoutError(WHAT[request.op], this.#budgetMs));
    if (running) this.#replace(this.#worker);
  }

  /** The worker exited or threw on its own. */
  #onDeath(worker: Worker, reason: string): void {
    if (!this.#ready) {
      // It never managed to open the database (or to load): reads stay on the engine's connection.
      this.#fallBackInline();
      return;
    }
    this.#stats.crashed += 1;
    const [running] = this.#pending.values();
    if (running !== undefined) {
      this.#pending.delete(running.id);
      clearTimeout(running.timer);
      running.outcome.reject(new StorageReadFailedError(reason));
    }
    this.#replace(worker);
  }

  /** Drops `worker` and posts the reads still waiting, in order, to a new one. */
  #replace(worker: Worker | undefined): void {
    this.#worker = undefined;
    worker?.terminate();
    for (const request of this.#pending.values()) this.#send(request);
  }

  #fallBackInline(): void {
    this.#inlineOnly = true;
    const worker = this.#worker;
    this.#worker = undefined;
    worker?.terminate();
    const waiting = [...this.#pending.values()];
    this.#pending.clear();
    for (const request of waiting) {
      clearTimeout(request.timer);
      request.hold?.reached.reject(new Error('The read ran inline: there is no worker to hold it in'));
      request.outcome.resolve(this.#runInline(request.op, request.args as ReadArgs<ReadOp>));
    }
  }

  async #runInline<K extends ReadOp>(op: K, args: ReadArgs<K>): Promise<ReadResult<K>> {
    this.#stats.inline += 1;
    return this.#inline(op, args);
  }

  #toError(error: Error): Error {
    return isCorruption(error) ? new StorageCorruptError(this.#path, error) : error;
  }
}

/** Whether `promise` settled within `ms`. */
async function within(promise: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
