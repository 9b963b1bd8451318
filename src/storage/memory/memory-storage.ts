/**
 * The in-memory storage adapter: for tests, examples and the browser fallback.
 *
 * Traps it avoids:
 * - Half-applied commits. Every mutation records how to undo itself; when one fails, the undo log
 *   runs backwards, so a rejected commit leaves the storage exactly as it was. A commit applies
 *   synchronously (no `await` inside), so concurrent commits can never interleave.
 * - Aliasing. Records and bytes are copied on the way in and on the way out (`record-copies.ts`): a
 *   caller that mutates what it passed or received cannot change stored state, just as with a real
 *   database.
 * - Full scans on hot paths. Runs are indexed here by id, idempotency key and status; each other
 *   kind of row has its own indexed store beside this file: timers kept sorted (`timer-index.ts`),
 *   inboxes by signal name (`inbox.ts`), attributes by name and value (`attribute-index.ts`),
 *   updates by id, key and status (`update-store.ts`), the event log, watch frames and stream chunks
 *   by seq (`seq-log.ts`). Only listing and aggregating pass over runs (`run-query.ts`,
 *   `run-aggregate.ts`), starting from the narrowest index at hand.
 *
 * Runs and journals are kept here; every store's change returns its undo, which `commit` logs.
 */
import { InvalidArgumentError, WorkflowAlreadyExistsError } from '../../core/errors.ts';
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
  RunPatch,
  RunQuery,
  RunRecord,
  RunStatus,
  Storage,
  StreamChunk,
  TimerRecord,
  UpdateRecord,
  WatchFrame,
} from '../storage.ts';
import { isStatusTypeQuery, StorageConflict, StorageConflictError } from '../storage.ts';
import { StorageClosedError } from '../storage-closed-error.ts';
import { AttributeIndex } from './attribute-index.ts';
import { Inbox } from './inbox.ts';
import { compareStrings } from './ordering.ts';
import {
  copyBytes,
  copyChunk,
  copyEntry,
  copyError,
  copyEvent,
  copyMessage,
  copyRun,
  copyTimer,
  copyUpdate,
  copyWatchFrame,
} from './record-copies.ts';
import { aggregate } from './run-aggregate.ts';
import type { RunSource } from './run-query.ts';
import { matchRuns, runPage } from './run-query.ts';
import { RunSeqLogs, SeqLog } from './seq-log.ts';
import { TimerIndex } from './timer-index.ts';
import { UpdateStore } from './update-store.ts';

type Undo = () => void;

/**
 * A `Storage` that keeps everything in process memory; nothing survives the process.
 *
 * @example
 * await using storage = new MemoryStorage();
 * await storage.commit([{ op: 'putTimer', timer: { runId: 'r1', key: 'deadline', fireAt: 1_000 } }]);
 * await storage.listTimers({ dueBy: 1_000 }); // [{ runId: 'r1', key: 'deadline', fireAt: 1000 }]
 */
export class MemoryStorage implements Storage {
  #closed = false;
  readonly #runs = new Map<string, RunRecord>();
  readonly #runIdByKey = new Map<string, string>();
  readonly #runIdsByStatus = new Map<RunStatus, Set<string>>();
  /** runId → seq → entry. */
  readonly #journals = new Map<string, Map<number, JournalEntry>>();
  readonly #timers = new TimerIndex();
  readonly #inbox = new Inbox();
  readonly #attributes = new AttributeIndex();
  readonly #updates = new UpdateStore();
  readonly #events = new SeqLog<EventRecord>(StorageConflict.eventSeq, 'Fleet event');
  readonly #watch = new RunSeqLogs<WatchFrame>(StorageConflict.watchSeq, 'watch frame');
  readonly #chunks = new RunSeqLogs<StreamChunk>(StorageConflict.chunkSeq, 'stream chunk');
  readonly #runSource: RunSource = {
    runs: this.#runs,
    idsByStatus: this.#runIdsByStatus,
    attributes: this.#attributes,
  };

  async commit(mutations: readonly Mutation[]): Promise<void> {
    this.#assertOpen();
    const undoLog: Undo[] = [];
    try {
      for (const mutation of mutations) this.#apply(mutation, undoLog);
    } catch (error) {
      for (const undo of undoLog.reverse()) undo();
      throw error;
    }
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    this.#assertOpen();
    const run = this.#runs.get(id);
    return run && copyRun(run);
  }

  async findRunByIdempotencyKey(key: string): Promise<RunRecord | undefined> {
    this.#assertOpen();
    const id = this.#runIdByKey.get(key);
    const run = id === undefined ? undefined : this.#runs.get(id);
    return run && copyRun(run);
  }

  async listRunsByStatus(statuses: readonly RunStatus[]): Promise<RunRecord[]> {
    this.#assertOpen();
    const found: RunRecord[] = [];
    for (const status of new Set(statuses)) {
      for (const id of this.#runIdsByStatus.get(status) ?? []) {
        const run = this.#runs.get(id);
        if (run) found.push(run);
      }
    }
    found.sort((a, b) => a.createdAt - b.createdAt || compareStrings(a.id, b.id));
    return found.map(copyRun);
  }

  async getJournal(runId: string): Promise<JournalEntry[]> {
    this.#assertOpen();
    const entries = [...(this.#journals.get(runId)?.values() ?? [])];
    // Entries usually arrive in seq order, so this sort is a linear pass in practice.
    entries.sort((a, b) => a.seq - b.seq);
    return entries.map(copyEntry);
  }

  async listTimers(options: ListTimersOptions = {}): Promise<TimerRecord[]> {
    this.#assertOpen();
    return this.#timers.due(options.dueBy, options.limit).map(copyTimer);
  }

  async listRunTimers(runId: string): Promise<TimerRecord[]> {
    this.#assertOpen();
    return this.#timers.ofRun(runId).map(copyTimer);
  }

  async peekSignal(runId: string, name: string): Promise<InboxMessage | undefined> {
    this.#assertOpen();
    const message = this.#inbox.peek(runId, name);
    return message && copyMessage(message);
  }

  async listSignalledRunIds(): Promise<string[]> {
    this.#assertOpen();
    return this.#inbox.signalledRunIds();
  }

  async getAttributes(runId: string): Promise<Record<string, AttributeValue>> {
    this.#assertOpen();
    return this.#attributes.of(runId);
  }

  async listRuns(query: RunQuery, options: ListRunsOptions): Promise<RunPage> {
    this.#assertOpen();
    return runPage(matchRuns(this.#runSource, query), options, isStatusTypeQuery(query));
  }

  async aggregateRuns(groupBy: RunGroupBy, query: RunQuery, maxGroups: number): Promise<RunAggregate> {
    this.#assertOpen();
    return aggregate(matchRuns(this.#runSource, query), groupBy, this.#attributes, maxGroups);
  }

  async getUpdate(id: string): Promise<UpdateRecord | undefined> {
    this.#assertOpen();
    const update = this.#updates.get(id);
    return update && copyUpdate(update);
  }

  async findUpdateByIdempotencyKey(runId: string, key: string): Promise<UpdateRecord | undefined> {
    this.#assertOpen();
    const update = this.#updates.findByKey(runId, key);
    return update && copyUpdate(update);
  }

  async listPendingUpdates(): Promise<UpdateRecord[]> {
    this.#assertOpen();
    return this.#updates.pending().map(copyUpdate);
  }

  async readEvents(afterSeq: number, limit: number): Promise<EventRecord[]> {
    this.#assertOpen();
    return this.#events.after(afterSeq, limit).map(copyEvent);
  }

  async lastEventSeq(): Promise<number> {
    this.#assertOpen();
    return this.#events.last();
  }

  async readWatch(runId: string, afterSeq: number, limit: number): Promise<WatchFrame[]> {
    this.#assertOpen();
    return this.#watch.after(runId, afterSeq, limit).map(copyWatchFrame);
  }

  async readChunks(runId: string, afterSeq: number, limit: number): Promise<StreamChunk[]> {
    this.#assertOpen();
    return this.#chunks.after(runId, afterSeq, limit).map(copyChunk);
  }

  async runTails(runId: string): Promise<{ watch: number; chunk: number }> {
    this.#assertOpen();
    return { watch: this.#watch.last(runId), chunk: this.#chunks.last(runId) };
  }

  /** Drops all data. Closing again is a no-op, so `await using` after an explicit `close()` is safe. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#runs.clear();
    this.#runIdByKey.clear();
    this.#runIdsByStatus.clear();
    this.#journals.clear();
    this.#timers.clear();
    this.#inbox.clear();
    this.#attributes.clear();
    this.#updates.clear();
    this.#events.clear();
    this.#watch.clear();
    this.#chunks.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new StorageClosedError();
  }

  /** Applies one mutation and pushes what reverts it; throws before changing anything if it conflicts. */
  #apply(mutation: Mutation, undoLog: Undo[]): void {
    switch (mutation.op) {
      case 'createRun': {
        const run = copyRun(mutation.run);
        if (this.#runs.has(run.id)) throw new WorkflowAlreadyExistsError(run.id);
        const holder = run.idempotencyKey === null ? undefined : this.#runIdByKey.get(run.idempotencyKey);
        if (holder !== undefined) {
          throw new StorageConflictError(
            StorageConflict.idempotencyKey,
            `Idempotency key '${run.idempotencyKey}' is already used by run '${holder}'`,
          );
        }
        this.#insertRun(run);
        undoLog.push(() => this.#removeRun(run));
        return;
      }
      case 'updateRun': {
        const before = this.#runs.get(mutation.id);
        if (!before)
          throw new StorageConflictError(StorageConflict.runMissing, `No run with id '${mutation.id}' to update`);
        const after = patchRun(before, mutation.patch);
        this.#removeRun(before);
        this.#insertRun(after);
        undoLog.push(() => {
          this.#removeRun(after);
          this.#insertRun(before);
        });
        return;
      }
      case 'deleteRun':
        this.#deleteRun(mutation.id, undoLog);
        return;
      case 'appendJournal': {
        const entry = copyEntry(mutation.entry);
        const journal = this.#journals.get(entry.runId) ?? new Map<number, JournalEntry>();
        if (journal.has(entry.seq)) {
          throw new StorageConflictError(
            StorageConflict.journalSeq,
            `Run '${entry.runId}' already has a journal entry at seq ${entry.seq}`,
          );
        }
        journal.set(entry.seq, entry);
        this.#journals.set(entry.runId, journal);
        undoLog.push(() => {
          journal.delete(entry.seq);
          if (journal.size === 0) this.#journals.delete(entry.runId);
        });
        return;
      }
      case 'putTimer':
        undoLog.push(this.#timers.put(copyTimer(mutation.timer)));
        return;
      case 'deleteTimer':
        undoLog.push(this.#timers.delete(mutation.runId, mutation.key));
        return;
      case 'deleteRunTimers':
        undoLog.push(this.#timers.removeRun(mutation.runId));
        return;
      case 'enqueueSignal': {
        const { runId, name, payload, createdAt } = mutation.message;
        undoLog.push(this.#inbox.enqueue({ runId, name, payload: copyBytes(payload), createdAt }));
        return;
      }
      case 'consumeSignal':
        undoLog.push(this.#inbox.consume(mutation.id));
        return;
      case 'setAttributes':
        undoLog.push(this.#attributes.set(mutation.runId, mutation.attributes));
        return;
      case 'putUpdate':
        undoLog.push(this.#updates.put(copyUpdate(mutation.update)));
        return;
      case 'appendEvent':
        undoLog.push(this.#events.insert(copyEvent(mutation.event)));
        return;
      case 'pruneEvents':
        undoLog.push(this.#events.removeThrough(mutation.throughSeq));
        return;
      case 'appendWatch':
        undoLog.push(this.#watch.insert(copyWatchFrame(mutation.frame)));
        return;
      case 'appendChunk':
        undoLog.push(this.#chunks.insert(copyChunk(mutation.chunk)));
        return;
      default: {
        // Only reachable from untyped callers; the type system already rules it out.
        const unknown: never = mutation;
        throw new InvalidArgumentError(`Unknown storage mutation ${JSON.stringify((unknown as { op?: unknown }).op)}`);
      }
    }
  }

  /**
   * Cascades by run id even when the run row is missing, so orphaned rows cannot outlive it. Fleet
   * events stay: the event log is the fleet's history, not the run's.
   */
  #deleteRun(runId: string, undoLog: Undo[]): void {
    const run = this.#runs.get(runId);
    const journal = this.#journals.get(runId);
    if (run) this.#removeRun(run);
    this.#journals.delete(runId);
    undoLog.push(() => {
      if (run) this.#insertRun(run);
      if (journal) this.#journals.set(runId, journal);
    });
    undoLog.push(this.#timers.removeRun(runId));
    undoLog.push(this.#inbox.removeRun(runId));
    undoLog.push(this.#attributes.removeRun(runId));
    undoLog.push(this.#updates.removeRun(runId));
    undoLog.push(this.#watch.removeRun(runId));
    undoLog.push(this.#chunks.removeRun(runId));
  }

  #insertRun(run: RunRecord): void {
    this.#runs.set(run.id, run);
    if (run.idempotencyKey !== null) this.#runIdByKey.set(run.idempotencyKey, run.id);
    let ids = this.#runIdsByStatus.get(run.status);
    if (!ids) this.#runIdsByStatus.set(run.status, (ids = new Set<string>()));
    ids.add(run.id);
  }

  #removeRun(run: RunRecord): void {
    this.#runs.delete(run.id);
    if (run.idempotencyKey !== null) this.#runIdByKey.delete(run.idempotencyKey);
    this.#runIdsByStatus.get(run.status)?.delete(run.id);
  }
}

/** Only the patchable fields, and an `undefined` value means "leave as is", as an absent key does. */
function patchRun(run: RunRecord, patch: RunPatch): RunRecord {
  const next = { ...run };
  if (patch.status !== undefined) next.status = patch.status;
  if (patch.result !== undefined) next.result = patch.result === null ? null : copyBytes(patch.result);
  if (patch.error !== undefined) next.error = copyError(patch.error);
  if (patch.failureCategory !== undefined) next.failureCategory = patch.failureCategory;
  if (patch.updatedAt !== undefined) next.updatedAt = patch.updatedAt;
  return next;
}
