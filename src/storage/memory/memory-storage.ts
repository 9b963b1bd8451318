/**
 * The in-memory storage adapter: for tests, examples and the browser fallback.
 *
 * Traps it avoids:
 * - Half-applied commits. Every mutation records how to undo itself; when one fails, the undo log
 *   runs backwards, so a rejected commit leaves the storage exactly as it was. A commit applies
 *   synchronously (no `await` inside), so concurrent commits can never interleave.
 * - Aliasing. Records and bytes are copied on the way in and on the way out: a caller that mutates
 *   what it passed or received cannot change stored state, just as with a real database. Bytes are
 *   copied with `new Uint8Array(bytes)`, not `.slice()` (a Node `Buffer`'s `slice` is a view) and not
 *   `structuredClone` (which copies a view's whole backing buffer, e.g. an 8 KB pool).
 * - Full scans on hot paths. Runs are indexed by id, idempotency key and status; timers are kept
 *   sorted for `listTimers`; each run's inbox is indexed by signal name.
 */
import type { SerializedError } from '../../core/errors.ts';
import { InvalidArgumentError, WorkflowAlreadyExistsError } from '../../core/errors.ts';
import type {
  InboxMessage,
  JournalEntry,
  ListTimersOptions,
  Mutation,
  RunPatch,
  RunRecord,
  RunStatus,
  Storage,
  TimerRecord,
} from '../storage.ts';
import { StorageConflict, StorageConflictError } from '../storage.ts';
import { StorageClosedError } from '../storage-closed-error.ts';

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
  /** runId → key → timer; `#timerOrder` holds the same objects sorted as `listTimers` returns them. */
  readonly #timersByRun = new Map<string, Map<string, TimerRecord>>();
  readonly #timerOrder: TimerRecord[] = [];
  readonly #inbox = new Map<number, InboxMessage>();
  /** runId → signal name → message ids, ascending, so the oldest is first. */
  readonly #inboxQueues = new Map<string, Map<string, number[]>>();
  #nextInboxId = 1;

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
    const { dueBy, limit } = options;
    let end = dueBy === undefined ? this.#timerOrder.length : firstIndex(this.#timerOrder, (t) => t.fireAt > dueBy);
    if (limit !== undefined) end = Math.min(end, Math.max(0, Math.floor(limit)));
    return this.#timerOrder.slice(0, end).map(copyTimer);
  }

  async listRunTimers(runId: string): Promise<TimerRecord[]> {
    this.#assertOpen();
    const timers = [...(this.#timersByRun.get(runId)?.values() ?? [])];
    timers.sort(compareTimers);
    return timers.map(copyTimer);
  }

  async peekSignal(runId: string, name: string): Promise<InboxMessage | undefined> {
    this.#assertOpen();
    const oldest = this.#inboxQueues.get(runId)?.get(name)?.[0];
    const message = oldest === undefined ? undefined : this.#inbox.get(oldest);
    return message && copyMessage(message);
  }

  async listSignalledRunIds(): Promise<string[]> {
    this.#assertOpen();
    const ids: string[] = [];
    for (const [runId, byName] of this.#inboxQueues) {
      for (const queue of byName.values()) {
        if (queue.length > 0) {
          ids.push(runId);
          break;
        }
      }
    }
    return ids.sort(compareStrings);
  }

  /** Drops all data. Closing again is a no-op, so `await using` after an explicit `close()` is safe. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#runs.clear();
    this.#runIdByKey.clear();
    this.#runIdsByStatus.clear();
    this.#journals.clear();
    this.#timersByRun.clear();
    this.#timerOrder.length = 0;
    this.#inbox.clear();
    this.#inboxQueues.clear();
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
      case 'putTimer': {
        const timer = copyTimer(mutation.timer);
        const previous = this.#timersByRun.get(timer.runId)?.get(timer.key);
        if (previous) this.#removeTimer(previous);
        this.#insertTimer(timer);
        undoLog.push(() => {
          this.#removeTimer(timer);
          if (previous) this.#insertTimer(previous);
        });
        return;
      }
      case 'deleteTimer': {
        const previous = this.#timersByRun.get(mutation.runId)?.get(mutation.key);
        if (!previous) return;
        this.#removeTimer(previous);
        undoLog.push(() => this.#insertTimer(previous));
        return;
      }
      case 'deleteRunTimers': {
        const removed = [...(this.#timersByRun.get(mutation.runId)?.values() ?? [])];
        for (const timer of removed) this.#removeTimer(timer);
        undoLog.push(() => removed.forEach((timer) => this.#insertTimer(timer)));
        return;
      }
      case 'enqueueSignal': {
        const { runId, name, payload, createdAt } = mutation.message;
        const message: InboxMessage = { id: this.#nextInboxId++, runId, name, payload: copyBytes(payload), createdAt };
        this.#insertMessage(message);
        undoLog.push(() => {
          this.#removeMessage(message);
          // Undo runs newest-first, so this winds the counter back to where the commit found it.
          this.#nextInboxId = message.id;
        });
        return;
      }
      case 'consumeSignal': {
        const message = this.#inbox.get(mutation.id);
        if (!message) {
          throw new StorageConflictError(
            StorageConflict.signalMissing,
            `Inbox message ${mutation.id} is gone (already consumed?)`,
          );
        }
        this.#removeMessage(message);
        undoLog.push(() => this.#insertMessage(message));
        return;
      }
      default: {
        // Only reachable from untyped callers; the type system already rules it out.
        const unknown: never = mutation;
        throw new InvalidArgumentError(`Unknown storage mutation ${JSON.stringify((unknown as { op?: unknown }).op)}`);
      }
    }
  }

  /** Cascades by run id even when the run row is missing, so orphaned rows cannot outlive it. */
  #deleteRun(runId: string, undoLog: Undo[]): void {
    const run = this.#runs.get(runId);
    const journal = this.#journals.get(runId);
    const timers = [...(this.#timersByRun.get(runId)?.values() ?? [])];
    const messages = [...(this.#inboxQueues.get(runId)?.values() ?? [])].flatMap((ids) =>
      ids.flatMap((id) => this.#inbox.get(id) ?? []),
    );
    if (run) this.#removeRun(run);
    this.#journals.delete(runId);
    for (const timer of timers) this.#removeTimer(timer);
    for (const message of messages) this.#removeMessage(message);
    undoLog.push(() => {
      if (run) this.#insertRun(run);
      if (journal) this.#journals.set(runId, journal);
      for (const timer of timers) this.#insertTimer(timer);
      for (const message of messages) this.#insertMessage(message);
    });
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

  #insertTimer(timer: TimerRecord): void {
    let byKey = this.#timersByRun.get(timer.runId);
    if (!byKey) this.#timersByRun.set(timer.runId, (byKey = new Map<string, TimerRecord>()));
    byKey.set(timer.key, timer);
    this.#timerOrder.splice(
      firstIndex(this.#timerOrder, (t) => compareTimers(t, timer) > 0),
      0,
      timer,
    );
  }

  /** `timer` must be the stored object, so its sort position is exact. */
  #removeTimer(timer: TimerRecord): void {
    const byKey = this.#timersByRun.get(timer.runId);
    byKey?.delete(timer.key);
    if (byKey?.size === 0) this.#timersByRun.delete(timer.runId);
    const index = firstIndex(this.#timerOrder, (t) => compareTimers(t, timer) >= 0);
    if (this.#timerOrder[index] === timer) this.#timerOrder.splice(index, 1);
  }

  #insertMessage(message: InboxMessage): void {
    this.#inbox.set(message.id, message);
    let byName = this.#inboxQueues.get(message.runId);
    if (!byName) this.#inboxQueues.set(message.runId, (byName = new Map<string, number[]>()));
    let ids = byName.get(message.name);
    if (!ids) byName.set(message.name, (ids = []));
    // New messages have the highest id and go last; only an undo puts one back in the middle.
    ids.splice(
      firstIndex(ids, (id) => id > message.id),
      0,
      message.id,
    );
  }

  #removeMessage(message: InboxMessage): void {
    this.#inbox.delete(message.id);
    const byName = this.#inboxQueues.get(message.runId);
    const ids = byName?.get(message.name);
    if (!byName || !ids) return;
    const index = firstIndex(ids, (id) => id >= message.id);
    if (ids[index] === message.id) ids.splice(index, 1);
    if (ids.length === 0) byName.delete(message.name);
    if (byName.size === 0) this.#inboxQueues.delete(message.runId);
  }
}

/** Binary search: the first index whose item satisfies `predicate`, which must be monotone (false…true). */
function firstIndex<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (predicate(items[mid] as T)) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** Code-unit order, not `localeCompare`: ordering must not depend on the process locale. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareTimers(a: TimerRecord, b: TimerRecord): number {
  return a.fireAt - b.fireAt || compareStrings(a.runId, b.runId) || compareStrings(a.key, b.key);
}

function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

function copyError(error: SerializedError | null): SerializedError | null {
  return error === null ? null : structuredClone(error);
}

/** Field by field, so stray properties a caller attached are not stored. */
function copyRun(run: RunRecord): RunRecord {
  return {
    id: run.id,
    type: run.type,
    version: run.version,
    status: run.status,
    input: copyBytes(run.input),
    result: run.result === null ? null : copyBytes(run.result),
    error: copyError(run.error),
    failureCategory: run.failureCategory,
    idempotencyKey: run.idempotencyKey,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    deadline: run.deadline,
  };
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

function copyEntry(entry: JournalEntry): JournalEntry {
  return {
    runId: entry.runId,
    seq: entry.seq,
    kind: entry.kind,
    name: entry.name,
    ok: entry.ok,
    value: entry.value === null ? null : copyBytes(entry.value),
    error: copyError(entry.error),
    createdAt: entry.createdAt,
  };
}

function copyTimer(timer: TimerRecord): TimerRecord {
  return { runId: timer.runId, key: timer.key, fireAt: timer.fireAt };
}

function copyMessage(message: InboxMessage): InboxMessage {
  return { ...message, payload: copyBytes(message.payload) };
}
