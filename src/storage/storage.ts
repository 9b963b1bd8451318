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
}

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

export type Mutation =
  /** Fails with `WorkflowAlreadyExistsError` on a taken id, `StorageConflictError('idempotency_key')` on a taken key. */
  | { op: 'createRun'; run: RunRecord }
  /** Fails with `StorageConflictError('run_missing')` when the run does not exist. */
  | { op: 'updateRun'; id: string; patch: RunPatch }
  /** Removes the run with its journal, timers and inbox. A missing run is not an error. */
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
  | { op: 'consumeSignal'; id: number };

export interface ListTimersOptions {
  /** Only timers with `fireAt <= dueBy`. */
  dueBy?: number;
  limit?: number;
}

export interface Storage {
  /** Applies all mutations atomically, in order. Resolves once they are durable; rejects having applied none. */
  commit(mutations: readonly Mutation[]): Promise<void>;
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
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export const StorageConflict = {
  idempotencyKey: 'idempotency_key',
  runMissing: 'run_missing',
  journalSeq: 'journal_seq',
  signalMissing: 'signal_missing',
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
