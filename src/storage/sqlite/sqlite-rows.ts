/**
 * Turns SQLite rows into the contract's records.
 *
 * Traps it avoids:
 * - Shared bytes. `bun:sqlite` copies every BLOB it returns into a new `Uint8Array` with a buffer of
 *   its own, so records are handed out as read: a caller that changes one cannot change stored state
 *   or another caller's copy. (A second copy here would only cost time.)
 * - Truthy integers. `ok` is stored as 0/1 and compared with `=== 1`, never passed through as a number;
 *   attribute values go through `decodeAttribute`, which reads their stored kind.
 */
import type { FailureCategory, SerializedError } from '../../core/errors.ts';
import type {
  AttributeValue,
  EventRecord,
  InboxMessage,
  JournalEntry,
  RunRecord,
  RunStatus,
  RunSummary,
  StreamChunk,
  TimerRecord,
  UpdateRecord,
  UpdateStatus,
  WatchFrame,
} from '../storage.ts';
import { decodeAttribute } from './attribute-value.ts';
import type {
  AttributeRow,
  ChunkRow,
  EventRow,
  InboxRow,
  JournalRow,
  RunRow,
  RunSummaryRow,
  TimerRow,
  UpdateRow,
  WatchRow,
} from './sqlite-statements.ts';

export function toRunSummary(row: RunSummaryRow): RunSummary {
  return {
    id: row.id,
    type: row.type,
    version: row.version,
    status: row.status as RunStatus,
    failureCategory: row.failure_category as FailureCategory | null,
    idempotencyKey: row.idempotency_key,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deadline: row.deadline,
    parentId: row.parent_id,
  };
}

export function toRunRecord(row: RunRow): RunRecord {
  return { ...toRunSummary(row), input: row.input, result: row.result, error: parseError(row.error) };
}

export function toJournalEntry(row: JournalRow): JournalEntry {
  return {
    runId: row.run_id,
    seq: row.seq,
    kind: row.kind,
    name: row.name,
    ok: row.ok === 1,
    value: row.value,
    error: parseError(row.error),
    createdAt: row.created_at,
  };
}

export function toTimerRecord(row: TimerRow): TimerRecord {
  return { runId: row.run_id, key: row.key, fireAt: row.fire_at };
}

export function toInboxMessage(row: InboxRow): InboxMessage {
  return { id: row.id, runId: row.run_id, name: row.name, payload: row.payload, createdAt: row.created_at };
}

/** `fromEntries` defines own properties, so a key such as '__proto__' is an attribute like any other. */
export function toAttributes(rows: readonly AttributeRow[]): Record<string, AttributeValue> {
  return Object.fromEntries(rows.map((row) => [row.key, decodeAttribute(row.kind, row.value)]));
}

export function toUpdateRecord(row: UpdateRow): UpdateRecord {
  return {
    id: row.id,
    runId: row.run_id,
    name: row.name,
    idempotencyKey: row.idempotency_key,
    status: row.status as UpdateStatus,
    result: row.result,
    error: parseError(row.error),
    createdAt: row.created_at,
    completedAt: row.completed_at,
  };
}

export function toEventRecord(row: EventRow): EventRecord {
  return { seq: row.seq, type: row.type, runId: row.run_id, at: row.at, data: row.data };
}

export function toWatchFrame(row: WatchRow): WatchFrame {
  return {
    runId: row.run_id,
    seq: row.seq,
    type: row.type,
    status: row.status as RunStatus,
    at: row.at,
    data: row.data,
  };
}

export function toStreamChunk(row: ChunkRow): StreamChunk {
  return { runId: row.run_id, seq: row.seq, data: row.data, at: row.at };
}

/** Errors are stored as JSON text; `SerializedError.details` is JSON-safe by contract. */
export function stringifyError(error: SerializedError | null): string | null {
  return error === null ? null : JSON.stringify(error);
}

function parseError(text: string | null): SerializedError | null {
  return text === null ? null : (JSON.parse(text) as SerializedError);
}
