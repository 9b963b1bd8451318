/**
 * The storage contract: everything durable about a run lives behind this one interface.
 *
 * Adapters hold data, never engine logic. Writes arrive as a list of mutations that an
 * adapter applies atomically — all or nothing — and `commit` resolves only once the data is
 * durable by the adapter's own standard. The engine never reports success before that.
 * Reads return what the last resolved commit wrote. Payloads are opaque bytes (the engine's
 * codec encodes them) so every adapter stores values identically.
 *
 * Fine print every adapter follows (the conformance suite checks it):
 * - `close()` may be called more than once; after it every other method rejects with
 *   `StorageClosedError` (code `storage_closed`).
 * - Rows for a run (journal, timers, inbox) are not checked against the run's existence.
 * - A patch field set to `undefined` leaves the stored value unchanged.
 * - Inbox ids only increase; gaps (after a rolled-back commit) are allowed.
 * - Ties in ordering break on binary (code-unit) order of ids and keys.
 * - Reads return `Uint8Array` (a `Buffer` subclass is acceptable) that the caller may keep.
 * - `SerializedError.details` is JSON-safe data.
 */
import type { FailureCategory, SerializedError } from '../core/errors.ts';
import { WeftError } from '../core/errors.ts';

export const RunStatus = {
  pending: 'pending',
  running: 'running',
  suspended: 'suspended',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
  timedOut: 'timed_out',
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];

/** Statuses a run can leave; recovery resumes runs in these. */
export const UNFINISHED_STATUSES: readonly RunStatus[] = [RunStatus.pending, RunStatus.running, RunStatus.suspended];

export function isFinished(status: RunStatus): boolean {
  return !UNFINISHED_STATUSES.includes(status);
}

export interface RunRecord {
  id: string;
  type: string;
  version: string | null;
  status: RunStatus;
  input: Uint8Array;
  result: Uint8Array | null;
  error: SerializedError | null;
  failureCategory: FailureCategory | null;
  idempotencyKey: string | null;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
  /** When the run times out (from `executionTimeout`), epoch ms. */
  deadline: number | null;
  /** The run that started this one as a child (`ctx.startChild`), else null. */
  parentId: string | null;
}

/** A run without its payloads: what listings return. */
export type RunSummary = Omit<RunRecord, 'input' | 'result' | 'error'>;

/** The fields of a run that change after it is created. */
export type RunPatch = Partial<Pick<RunRecord, 'status' | 'result' | 'error' | 'failureCategory' | 'updatedAt'>>;

/** The recorded outcome of one durable operation of a run. `(runId, seq)` is unique. */
export interface JournalEntry {
  runId: string;
  seq: number;
  /** Operation kind: 'activity', 'sleep', 'signal', 'now', 'random', 'uuid', 'all', 'race', ... */
  kind: string;
  /** Activity or signal name; '' where the kind has none. */
  name: string;
  ok: boolean;
  value: Uint8Array | null;
  error: SerializedError | null;
  createdAt: number;
}

/** A durable timer. `(runId, key)` is unique; `key` is e.g. 'step:4' or 'deadline'. */
export interface TimerRecord {
  runId: string;
  key: string;
  fireAt: number;
}

/** A signal waiting in a run's inbox. `id` is assigned by the storage and increases with arrival. */
export interface InboxMessage {
  id: number;
  runId: string;
  name: string;
  payload: Uint8Array;
  createdAt: number;
}

/** A search attribute value. Strings, finite numbers and booleans are distinct: `1` never equals `'1'` or `true`. */
export type AttributeValue = string | number | boolean;

export const UpdateStatus = { pending: 'pending', completed: 'completed', failed: 'failed' } as const;
export type UpdateStatus = (typeof UpdateStatus)[keyof typeof UpdateStatus];

/** An update sent to a run (`engine.update`). `id` is unique; `(runId, idempotencyKey)` is unique when the key is set. */
export interface UpdateRecord {
  id: string;
  runId: string;
  name: string;
  idempotencyKey: string | null;
  status: UpdateStatus;
  result: Uint8Array | null;
  error: SerializedError | null;
  createdAt: number;
  completedAt: number | null;
}

/** One entry of the fleet event log. `seq` is assigned by the engine, unique, and only grows. */
export interface EventRecord {
  seq: number;
  type: string;
  runId: string | null;
  at: number;
  data: Uint8Array | null;
}

/** One state change of a run, for watchers. `(runId, seq)` is unique; `seq` counts from 1 per run. */
export interface WatchFrame {
  runId: string;
  seq: number;
  /** The engine event that made the change, e.g. 'workflow:suspended'. */
  type: string;
  /** The run's status after the change. */
  status: RunStatus;
  at: number;
  data: Uint8Array | null;
}

/** One chunk of a run's token stream. `(runId, seq)` is unique; `seq` counts from 1 per run. */
export interface StreamChunk {
  runId: string;
  seq: number;
  data: Uint8Array;
  at: number;
}

/**
 * Which runs a listing or aggregate covers. Every field narrows (AND); the arrays are OR within
 * the field. Ranges are exclusive: `createdAfter: t` keeps runs with `createdAt > t`, `createdBefore: t`
 * those with `createdAt < t`; a deadline range never matches a run without a deadline.
 */
export interface RunQuery {
  statuses?: readonly RunStatus[];
  types?: readonly string[];
  idPrefix?: string;
  failureCategories?: readonly FailureCategory[];
  parentId?: string;
  createdAfter?: number;
  createdBefore?: number;
  updatedAfter?: number;
  updatedBefore?: number;
  deadlineAfter?: number;
  deadlineBefore?: number;
  /** Attribute equality: the run has every one of these attributes with exactly this value (and type). */
  attributes?: Readonly<Record<string, AttributeValue>>;
}

/** Where a run sits in listing order: `createdAt`, then `id` (binary order), both descending. */
export interface RunKey {
  createdAt: number;
  id: string;
}

export interface ListRunsOptions {
  /** At most this many runs (the adapter applies no cap of its own). */
  limit: number;
  /** Matches to skip, counted after `after` when both are given. */
  offset?: number;
  /**
   * Keyset: only runs after this key in listing order — `createdAt < after.createdAt`, or equal and
   * `id < after.id` — so a next page costs the page, not the pages before it. Runs created since
   * the key was read sort before it and never shift a later page. Does not narrow `total`.
   */
  after?: RunKey;
}

/**
 * Most matches a listing counts exactly when its query filters on more than status and type: past it
 * the count would cost as much as reading every match, so it stops (see `RunPage.totalIsExact`).
 */
export const LIST_TOTAL_CAP = 1_000;

/**
 * Newest first: `createdAt` descending, ties by `id` descending (binary order). `total` ignores limit,
 * offset and `after` (it counts the query's matches), and is exact (`totalIsExact: true`) when the query filters on nothing but statuses and
 * types, or when at most `LIST_TOTAL_CAP` runs match. Otherwise more than `LIST_TOTAL_CAP` runs match,
 * `totalIsExact` is false and `total` is a lower bound: `max(LIST_TOTAL_CAP, offset + runs.length)`.
 * Every adapter follows this rule, so the same query says the same thing on each.
 */
export interface RunPage {
  runs: RunSummary[];
  total: number;
  totalIsExact: boolean;
}

/** Whether `query` filters on statuses and types alone (or on nothing): the totals adapters keep exact. */
export function isStatusTypeQuery(query: RunQuery): boolean {
  for (const [field, value] of Object.entries(query) as [keyof RunQuery, unknown][]) {
    if (value === undefined || field === 'statuses' || field === 'types') continue;
    if (field === 'idPrefix' && value === '') continue;
    if (field === 'attributes' && Object.values(value as object).every((v) => v === undefined)) continue;
    return false;
  }
  return true;
}

/** The page's total under the `RunPage` rule, given an exact count or one that stopped past the cap. */
export function boundedTotal(
  counted: number,
  exactAlways: boolean,
  offset: number,
  pageLength: number,
): {
  total: number;
  totalIsExact: boolean;
} {
  if (exactAlways || counted <= LIST_TOTAL_CAP) return { total: counted, totalIsExact: true };
  // An empty page past the matches says nothing more than the cap; `offset` may be huge there.
  const reached = pageLength > 0 ? offset + pageLength : 0;
  return { total: Math.max(LIST_TOTAL_CAP, reached), totalIsExact: false };
}

export type RunGroupBy = 'status' | 'type' | 'failureCategory' | `attribute:${string}`;

/**
 * Counts by group. `total` counts every matching run; runs without a value for the grouping (no
 * failure category, no such attribute) are in `total` but in no group. Groups are ordered by count
 * descending, then key (strings in binary order; for attributes, booleans before numbers before
 * strings, numbers ascending); only the first `maxGroups` are returned and `truncated` says whether
 * there were more.
 */
export interface RunAggregate {
  total: number;
  groups: { key: AttributeValue; count: number }[];
  truncated: boolean;
}

export type Mutation =
  /** Fails with `WorkflowAlreadyExistsError` on a taken id, `StorageConflictError('idempotency_key')` on a taken key. */
  | { op: 'createRun'; run: RunRecord }
  /** Fails with `StorageConflictError('run_missing')` when the run does not exist. */
  | { op: 'updateRun'; id: string; patch: RunPatch }
  /**
   * Removes the run with its journal, timers, inbox, attributes, updates, watch frames and stream
   * chunks (fleet events stay). A missing run is not an error.
   */
  | { op: 'deleteRun'; id: string }
  /** Fails with `StorageConflictError('journal_seq')` when `(runId, seq)` is taken. */
  | { op: 'appendJournal'; entry: JournalEntry }
  /** Inserts or replaces the timer `(runId, key)`. */
  | { op: 'putTimer'; timer: TimerRecord }
  /** A missing timer is not an error. */
  | { op: 'deleteTimer'; runId: string; key: string }
  | { op: 'deleteRunTimers'; runId: string }
  | { op: 'enqueueSignal'; message: Omit<InboxMessage, 'id'> }
  /** Fails with `StorageConflictError('signal_missing')` when the message is gone (consumed twice). */
  | { op: 'consumeSignal'; id: number }
  /** Sets each attribute (replacing its value and type); `null` removes it. Not checked against the run's existence. */
  | { op: 'setAttributes'; runId: string; attributes: Readonly<Record<string, AttributeValue | null>> }
  /**
   * Inserts the update, or replaces the one with the same `id`. Fails with
   * `StorageConflictError('update_key')` when another update of the run holds its idempotency key.
   */
  | { op: 'putUpdate'; update: UpdateRecord }
  /** Fails with `StorageConflictError('event_seq')` when `seq` is taken. */
  | { op: 'appendEvent'; event: EventRecord }
  /** Deletes fleet events with `seq <= throughSeq`. */
  | { op: 'pruneEvents'; throughSeq: number }
  /** Fails with `StorageConflictError('watch_seq')` when `(runId, seq)` is taken. */
  | { op: 'appendWatch'; frame: WatchFrame }
  /** Fails with `StorageConflictError('chunk_seq')` when `(runId, seq)` is taken. */
  | { op: 'appendChunk'; chunk: StreamChunk };

export interface ListTimersOptions {
  /** Only timers with `fireAt <= dueBy`. */
  dueBy?: number;
  limit?: number;
}

export interface Storage {
  /** Applies all mutations atomically, in order. Resolves once they are durable; rejects having applied none. */
  commit(mutations: readonly Mutation[]): Promise<void>;
  /**
   * Optional: how many commits were accepted and are not yet written (the commit queue's depth). A
   * server reads it to refuse new work while storage is behind (docs/server.md, "Back-pressure").
   * Cheap and synchronous; it reports, never waits. An adapter that applies each commit as it
   * arrives (MemoryStorage) leaves it out.
   */
  pendingCommits?(): number;
  getRun(id: string): Promise<RunRecord | undefined>;
  findRunByIdempotencyKey(key: string): Promise<RunRecord | undefined>;
  /** Runs in any of `statuses`, oldest first (by `createdAt`, then `id`). */
  listRunsByStatus(statuses: readonly RunStatus[]): Promise<RunRecord[]>;
  /** The run's journal in `seq` order. */
  getJournal(runId: string): Promise<JournalEntry[]>;
  /** Timers ordered by `fireAt`, then `runId`, then `key`. */
  listTimers(options?: ListTimersOptions): Promise<TimerRecord[]>;
  listRunTimers(runId: string): Promise<TimerRecord[]>;
  /** The oldest message named `name` in the run's inbox. */
  peekSignal(runId: string, name: string): Promise<InboxMessage | undefined>;
  /** Ids of the runs with at least one message in their inbox, in the string order above. */
  listSignalledRunIds(): Promise<string[]>;
  /** The run's attributes (empty when it has none). */
  getAttributes(runId: string): Promise<Record<string, AttributeValue>>;
  /** One page of the runs matching `query`, newest first (see `RunPage`). */
  listRuns(query: RunQuery, options: ListRunsOptions): Promise<RunPage>;
  /** Counts of the runs matching `query` by `groupBy` (see `RunAggregate`). */
  aggregateRuns(groupBy: RunGroupBy, query: RunQuery, maxGroups: number): Promise<RunAggregate>;
  getUpdate(id: string): Promise<UpdateRecord | undefined>;
  findUpdateByIdempotencyKey(runId: string, key: string): Promise<UpdateRecord | undefined>;
  /** Pending updates of all runs, oldest first (by `createdAt`, then `id`). */
  listPendingUpdates(): Promise<UpdateRecord[]>;
  /** Fleet events with `seq > afterSeq`, ascending, at most `limit`. */
  readEvents(afterSeq: number, limit: number): Promise<EventRecord[]>;
  /** The highest event `seq` stored, 0 when there is none (the engine never prunes the newest events). */
  lastEventSeq(): Promise<number>;
  /** The run's watch frames with `seq > afterSeq`, ascending, at most `limit`. */
  readWatch(runId: string, afterSeq: number, limit: number): Promise<WatchFrame[]>;
  /** The run's stream chunks with `seq > afterSeq`, ascending, at most `limit`. */
  readChunks(runId: string, afterSeq: number, limit: number): Promise<StreamChunk[]>;
  /** The highest watch and chunk `seq` of the run, 0 where it has none. */
  runTails(runId: string): Promise<{ watch: number; chunk: number }>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export const StorageConflict = {
  idempotencyKey: 'idempotency_key',
  runMissing: 'run_missing',
  journalSeq: 'journal_seq',
  signalMissing: 'signal_missing',
  updateKey: 'update_key',
  eventSeq: 'event_seq',
  watchSeq: 'watch_seq',
  chunkSeq: 'chunk_seq',
} as const;
export type StorageConflict = (typeof StorageConflict)[keyof typeof StorageConflict];

/** A commit was refused because it contradicts what is stored; nothing of it was applied. */
export class StorageConflictError extends WeftError {
  readonly conflict: StorageConflict;
  constructor(conflict: StorageConflict, message: string) {
    super('storage_conflict', message, { details: { conflict } });
    this.conflict = conflict;
  }
}
