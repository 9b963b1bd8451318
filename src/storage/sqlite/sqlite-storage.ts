/**
 * The SQLite storage adapter: Weft's embedded default, one process and one file, on `bun:sqlite`.
 *
 * This file is the `Storage` surface only; each hard part lives in its own module:
 * `open-database.ts` (lock, checks, pragmas, migrations), `owner-lock.ts` (one owner per file),
 * `group-commit.ts` + `write-group.ts` (many commits, one transaction), `bound-mutation.ts`
 * (mutations → statements, conflicts → contract errors), `run-query.ts` + `query-terms.ts` +
 * `list-plan.ts` (listings and aggregates, with `statement-cache.ts`), `read-worker.ts` + `read-worker-entry.ts` + `read-ops.ts` (listings,
 * aggregates and event pages on a thread of their own), `attribute-value.ts`,
 * `sqlite-statements.ts`, `sqlite-rows.ts`.
 *
 * Traps it avoids:
 * - A heavy read stalling every commit. `bun:sqlite` is synchronous; reads that grow with the store
 *   run on the read worker's connection (WAL), within a time budget, so commits keep their latency.
 * - "Done" before durable. `commit` resolves only after the SQLite COMMIT of its group returned, with
 *   `synchronous` set by `durability`; a failed COMMIT rejects every commit of the group.
 * - Answering after close. Every method checks first and rejects with `StorageClosedError`; commits
 *   accepted before `close()` are still written by it, so none is left hanging.
 * - Driver errors leaking. Reads that hit a damaged file reject with `StorageCorruptError`.
 */
import type { Database } from 'bun:sqlite';
import { InvalidArgumentError } from '../../core/errors.ts';
import type {
  AttributeValue,
  EventRecord,
  InboxMessage,
  JournalEntry,
  ListRunsOptions,
  ListTimersOptions,
  Mutation,
  RunAggregate,
  RunGroupBy,
  RunPage,
  RunQuery,
  RunRecord,
  RunStatus,
  Storage,
  StreamChunk,
  TimerRecord,
  UpdateRecord,
  WatchFrame,
} from '../storage.ts';
import { StorageClosedError } from '../storage-closed-error.ts';
import type { BoundMutation } from './bound-mutation.ts';
import { bindMutation } from './bound-mutation.ts';
import { GroupCommit } from './group-commit.ts';
import type { SQLiteDurability } from './open-database.ts';
import { isMemoryPath, openDatabase } from './open-database.ts';
import type { OwnerLock } from './owner-lock.ts';
import { isCorruption, StorageCorruptError } from './sqlite-errors.ts';
import type { ReadArgs, ReadConnection, ReadOp, ReadResult } from './read-ops.ts';
import { runReadOp } from './read-ops.ts';
import type { ReadWorkerOptions } from './read-worker.ts';
import { READ_WORKER, ReadWorker } from './read-worker.ts';
import {
  toAttributes,
  toInboxMessage,
  toJournalEntry,
  toRunRecord,
  toStreamChunk,
  toTimerRecord,
  toUpdateRecord,
  toWatchFrame,
} from './sqlite-rows.ts';
import type { SQLiteStatements } from './sqlite-statements.ts';
import { finalizeStatements, prepareStatements, sqlLimit } from './sqlite-statements.ts';
import { StatementCache } from './statement-cache.ts';
import { writeGroup } from './write-group.ts';

export interface SQLiteStorageOptions {
  /** A file path, or ':memory:' for a private in-memory database (tests). */
  path: string;
  /**
   * 'normal' (default): `synchronous=NORMAL` — a commit survives a process crash, but a power loss
   * or OS crash may lose the last commits (the file stays consistent). 'full': `synchronous=FULL` —
   * a resolved commit survives power loss too, at the cost of an fsync per group.
   */
  durability?: SQLiteDurability;
  /**
   * Where listings, aggregates and event pages run. Default: on a read worker, a thread with its own
   * read-only connection, so a heavy read never holds up commits; a read that outlasts `budgetMs`
   * (default 5,000) is abandoned with `ReadTimeoutError` (`read_timeout`). `false`: inline on the
   * engine's thread, as every read of a `':memory:'` database is.
   */
  readWorker?: boolean | ReadWorkerOptions;
}

/** Counters for observing group commit; they only ever grow. */
export interface SQLiteStorageStats {
  /** SQLite write transactions that committed at least one caller's commit; one per group. */
  readonly transactions: number;
  /** Caller commits that landed (each is one savepoint in some transaction). */
  readonly commits: number;
}

/**
 * A `Storage` in one SQLite file (WAL mode), owned by one process at a time.
 *
 * @example
 * await using storage = new SQLiteStorage({ path: './weft.db', durability: 'full' });
 * await storage.commit([{ op: 'putTimer', timer: { runId: 'r1', key: 'deadline', fireAt: 1_000 } }]);
 * await storage.listTimers({ dueBy: 1_000 }); // [{ runId: 'r1', key: 'deadline', fireAt: 1000 }]
 */
export class SQLiteStorage implements Storage {
  readonly path: string;
  readonly durability: SQLiteDurability;
  readonly #db: Database;
  readonly #lock: OwnerLock | null;
  readonly #statements: SQLiteStatements;
  /** Listing and aggregate statements, whose SQL depends on the query. */
  readonly #queries: StatementCache;
  readonly #group: GroupCommit<readonly BoundMutation[]>;
  /** Undefined when the heavy reads run inline (in memory, or `readWorker: false`). */
  readonly #reads: ReadWorker | undefined;
  #closed = false;
  #transactions = 0;
  #commits = 0;

  /**
   * Opens (creating if needed) and migrates the database, and takes its owner lock. Throws
   * `storage_locked`, `storage_not_weft_database`, `storage_corrupt`, `storage_schema_too_new` or
   * `storage_open_failed`.
   */
  constructor(pathOrOptions: string | SQLiteStorageOptions) {
    const options = typeof pathOrOptions === 'string' ? { path: pathOrOptions } : pathOrOptions;
    this.path = options.path;
    this.durability = options.durability ?? 'normal';
    // Checked at run time too: a typo from untyped code must not quietly weaken durability.
    if (typeof this.path !== 'string') throw new InvalidArgumentError('SQLiteStorage needs a path');
    if (this.durability !== 'normal' && this.durability !== 'full') {
      throw new InvalidArgumentError(`Unknown durability ${JSON.stringify(this.durability)}: use 'normal' or 'full'`);
    }
    const { db, lock } = openDatabase(this.path, this.durability);
    this.#db = db;
    this.#lock = lock;
    try {
      this.#statements = prepareStatements(db);
    } catch (error) {
      db.close();
      lock?.release();
      throw error;
    }
    this.#queries = new StatementCache(db);
    this.#group = new GroupCommit((batches) => this.#writeGroup(batches));
    const readWorker = options.readWorker ?? true;
    this.#reads =
      readWorker === false || isMemoryPath(this.path)
        ? undefined
        : new ReadWorker(this.path, readWorker === true ? {} : readWorker, (op, args) => this.#readInline(op, args));
  }

  get stats(): SQLiteStorageStats {
    return { transactions: this.#transactions, commits: this.#commits };
  }

  /** Commits accepted and waiting for the next group's transaction (see `Storage.pendingCommits`). */
  pendingCommits(): number {
    return this.#group.pending;
  }

  async commit(mutations: readonly Mutation[]): Promise<void> {
    this.#assertOpen();
    const bound = mutations.map(bindMutation);
    if (bound.length === 0) return;
    return this.#group.submit(bound);
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    return this.#read(() => {
      const row = this.#statements.selectRun.get({ id });
      return row ? toRunRecord(row) : undefined;
    });
  }

  async findRunByIdempotencyKey(key: string): Promise<RunRecord | undefined> {
    return this.#read(() => {
      const row = this.#statements.selectRunByKey.get({ key });
      return row ? toRunRecord(row) : undefined;
    });
  }

  async listRunsByStatus(statuses: readonly RunStatus[]): Promise<RunRecord[]> {
    return this.#read(() =>
      this.#statements.selectRunsByStatus.all({ statuses: JSON.stringify([...new Set(statuses)]) }).map(toRunRecord),
    );
  }

  async getJournal(runId: string): Promise<JournalEntry[]> {
    return this.#read(() => this.#statements.selectJournal.all({ runId }).map(toJournalEntry));
  }

  async listTimers(options: ListTimersOptions = {}): Promise<TimerRecord[]> {
    const { dueBy, limit } = options;
    return this.#read(() =>
      this.#statements.selectTimers
        .all({
          dueBy: dueBy ?? Number.POSITIVE_INFINITY,
          limit: limit === undefined ? -1 : sqlLimit(limit),
        })
        .map(toTimerRecord),
    );
  }

  async listRunTimers(runId: string): Promise<TimerRecord[]> {
    return this.#read(() => this.#statements.selectRunTimers.all({ runId }).map(toTimerRecord));
  }

  async peekSignal(runId: string, name: string): Promise<InboxMessage | undefined> {
    return this.#read(() => {
      const row = this.#statements.selectOldestSignal.get({ runId, name });
      return row ? toInboxMessage(row) : undefined;
    });
  }

  async listSignalledRunIds(): Promise<string[]> {
    return this.#read(() => this.#statements.selectSignalledRunIds.all().map((row) => row.run_id));
  }

  async getAttributes(runId: string): Promise<Record<string, AttributeValue>> {
    return this.#read(() => toAttributes(this.#statements.selectAttributes.all({ runId })));
  }

  async listRuns(query: RunQuery, options: ListRunsOptions): Promise<RunPage> {
    return this.#heavyRead('listRuns', [query, options]);
  }

  async aggregateRuns(groupBy: RunGroupBy, query: RunQuery, maxGroups: number): Promise<RunAggregate> {
    return this.#heavyRead('aggregateRuns', [groupBy, query, maxGroups]);
  }

  async getUpdate(id: string): Promise<UpdateRecord | undefined> {
    return this.#read(() => {
      const row = this.#statements.selectUpdate.get({ id });
      return row ? toUpdateRecord(row) : undefined;
    });
  }

  async findUpdateByIdempotencyKey(runId: string, key: string): Promise<UpdateRecord | undefined> {
    return this.#read(() => {
      const row = this.#statements.selectUpdateByKey.get({ runId, key });
      return row ? toUpdateRecord(row) : undefined;
    });
  }

  async listPendingUpdates(): Promise<UpdateRecord[]> {
    return this.#read(() => this.#statements.selectPendingUpdates.all().map(toUpdateRecord));
  }

  async readEvents(afterSeq: number, limit: number): Promise<EventRecord[]> {
    return this.#heavyRead('readEvents', [afterSeq, limit]);
  }

  async lastEventSeq(): Promise<number> {
    return this.#read(() => this.#statements.selectLastEventSeq.get()?.seq ?? 0);
  }

  async readWatch(runId: string, afterSeq: number, limit: number): Promise<WatchFrame[]> {
    return this.#read(() =>
      this.#statements.selectWatch.all({ runId, afterSeq, limit: sqlLimit(limit) }).map(toWatchFrame),
    );
  }

  async readChunks(runId: string, afterSeq: number, limit: number): Promise<StreamChunk[]> {
    return this.#read(() =>
      this.#statements.selectChunks.all({ runId, afterSeq, limit: sqlLimit(limit) }).map(toStreamChunk),
    );
  }

  async runTails(runId: string): Promise<{ watch: number; chunk: number }> {
    return this.#read(() => {
      const row = this.#statements.selectRunTails.get({ runId });
      return { watch: row?.watch ?? 0, chunk: row?.chunk ?? 0 };
    });
  }

  /**
   * Writes the commits already accepted, then closes the database and releases the owner lock.
   * Closing again is a no-op, so `await using` after an explicit `close()` is safe.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#group.flush();
      // Before the engine's connection: the reader's must be closed for this one to remove the WAL.
      await this.#reads?.close();
      this.#queries.finalizeAll();
      finalizeStatements(this.#statements);
      // With every statement finalized the connection closes now, checkpointing and removing the WAL.
      this.#db.close();
    } finally {
      this.#lock?.release();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new StorageClosedError();
  }

  /** Test seam (`READ_WORKER` is not exported from the package): the read worker, if reads use one. */
  get [READ_WORKER](): ReadWorker | undefined {
    return this.#reads;
  }

  /** A read whose cost grows with the store: on the read worker when there is one, else inline. */
  async #heavyRead<K extends ReadOp>(op: K, args: ReadArgs<K>): Promise<ReadResult<K>> {
    this.#assertOpen();
    return this.#reads === undefined ? this.#readInline(op, args) : this.#reads.run(op, args);
  }

  #readInline<K extends ReadOp>(op: K, args: ReadArgs<K>): ReadResult<K> {
    const connection: ReadConnection = { statements: this.#statements, queries: this.#queries };
    return this.#read(() => runReadOp(connection, op, args));
  }

  #read<T>(query: () => T): T {
    this.#assertOpen();
    try {
      return query();
    } catch (error) {
      if (isCorruption(error)) throw new StorageCorruptError(this.path, error);
      throw error;
    }
  }

  #writeGroup(batches: readonly (readonly BoundMutation[])[]): (Error | undefined)[] {
    const failures = writeGroup(this.#db, this.#statements, this.path, batches);
    const landed = failures.filter((failure) => failure === undefined).length;
    if (landed > 0) this.#transactions += 1;
    this.#commits += landed;
    return failures;
  }
}
