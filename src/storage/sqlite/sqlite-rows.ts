/**
 * Turns SQLite rows into the contract's records.
 *
 * Traps it avoids:
 * - Shared bytes. `bun:sqlite` copies every BLOB it returns into a new `Uint8Array` with a buffer of
 *   its own, so records are handed out as read: a caller that changes one cannot change stored state
 *   or another caller's copy. (A second copy here would only cost time.)
 * - Truthy integers. `ok` is stored as 0/1 and compared with `=== 1`, never passed through as a number.
 */
import type { FailureCategory, SerializedError } from '../../core/errors.ts';
import type { InboxMessage, JournalEntry, RunRecord, RunStatus, TimerRecord } from '../storage.ts';
import type { InboxRow, JournalRow, RunRow, TimerRow } from './sqlite-statements.ts';

export function toRunRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    type: row.type,
    version: row.version,
    status: row.status as RunStatus,
    input: row.input,
    result: row.result,
    error: parseError(row.error),
    failureCategory: row.failure_category as FailureCategory | null,
    idempotencyKey: row.idempotency_key,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deadline: row.deadline,
  };
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

/** Errors are stored as JSON text; `SerializedError.details` is JSON-safe by contract. */
export function stringifyError(error: SerializedError | null): string | null {
  return error === null ? null : JSON.stringify(error);
}

function parseError(text: string | null): SerializedError | null {
  return text === null ? null : (JSON.parse(text) as SerializedError);
}
