/**
 * Copies of every record the memory adapter stores or hands out, made on the way in and on the way
 * out, so a caller changing what it passed or received cannot change stored state, as with a real
 * database.
 *
 * Traps it avoids:
 * - Aliased bytes. Bytes are copied with `new Uint8Array(bytes)`, not `.slice()` (a Node `Buffer`'s
 *   `slice` is a view) and not `structuredClone` (which copies a view's whole backing buffer, e.g.
 *   an 8 KB pool).
 * - Stray properties. Records are copied field by field, so whatever else a caller attached is not
 *   stored, and a listing's summary carries no payloads.
 */
import type { SerializedError } from '../../core/errors.ts';
import type {
  EventRecord,
  InboxMessage,
  JournalEntry,
  RunRecord,
  RunSummary,
  StreamChunk,
  TimerRecord,
  UpdateRecord,
  WatchFrame,
} from '../storage.ts';

export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

function copyNullableBytes(bytes: Uint8Array | null): Uint8Array | null {
  return bytes === null ? null : copyBytes(bytes);
}

export function copyError(error: SerializedError | null): SerializedError | null {
  return error === null ? null : structuredClone(error);
}

export function copyRun(run: RunRecord): RunRecord {
  return {
    ...copySummary(run),
    input: copyBytes(run.input),
    result: copyNullableBytes(run.result),
    error: copyError(run.error),
  };
}

/** The run without its payloads, as listings return it. */
export function copySummary(run: RunRecord): RunSummary {
  return {
    id: run.id,
    type: run.type,
    version: run.version,
    status: run.status,
    failureCategory: run.failureCategory,
    idempotencyKey: run.idempotencyKey,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    deadline: run.deadline,
    parentId: run.parentId,
  };
}

export function copyEntry(entry: JournalEntry): JournalEntry {
  return {
    runId: entry.runId,
    seq: entry.seq,
    kind: entry.kind,
    name: entry.name,
    ok: entry.ok,
    value: copyNullableBytes(entry.value),
    error: copyError(entry.error),
    createdAt: entry.createdAt,
  };
}

export function copyTimer(timer: TimerRecord): TimerRecord {
  return { runId: timer.runId, key: timer.key, fireAt: timer.fireAt };
}

export function copyMessage(message: InboxMessage): InboxMessage {
  return {
    id: message.id,
    runId: message.runId,
    name: message.name,
    payload: copyBytes(message.payload),
    createdAt: message.createdAt,
  };
}

export function copyUpdate(update: UpdateRecord): UpdateRecord {
  return {
    id: update.id,
    runId: update.runId,
    name: update.name,
    idempotencyKey: update.idempotencyKey,
    status: update.status,
    result: copyNullableBytes(update.result),
    error: copyError(update.error),
    createdAt: update.createdAt,
    completedAt: update.completedAt,
  };
}

export function copyEvent(event: EventRecord): EventRecord {
  return { seq: event.seq, type: event.type, runId: event.runId, at: event.at, data: copyNullableBytes(event.data) };
}

export function copyWatchFrame(frame: WatchFrame): WatchFrame {
  return {
    runId: frame.runId,
    seq: frame.seq,
    type: frame.type,
    status: frame.status,
    at: frame.at,
    data: copyNullableBytes(frame.data),
  };
}

export function copyChunk(chunk: StreamChunk): StreamChunk {
  return { runId: chunk.runId, seq: chunk.seq, data: copyBytes(chunk.data), at: chunk.at };
}
