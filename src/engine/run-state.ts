/**
 * A stored run as callers see it: `engine.get()`'s state, and what `handle.result()` resolves or
 * rejects with. One place maps terminal statuses to their errors, so every caller gets the same.
 */
import type { Codec } from '../core/codec.ts';
import { WorkflowCancelledError, WorkflowFailedError, WorkflowTimedOutError } from '../core/errors.ts';
import { RunStatus, type RunRecord } from '../storage/storage.ts';
import type { WorkflowState } from './engine-options.ts';

/** The result of a finished run, or the error that stands for how it ended. */
export function runOutcome(record: RunRecord, codec: Codec): unknown {
  switch (record.status) {
    case RunStatus.completed:
      return record.result === null ? undefined : codec.decode(record.result);
    case RunStatus.cancelled:
      throw new WorkflowCancelledError(record.id);
    case RunStatus.timedOut:
      throw new WorkflowTimedOutError(record.id);
    default:
      throw new WorkflowFailedError(
        record.id,
        record.failureCategory ?? 'internal',
        record.error ?? { name: 'Error', message: 'unknown failure' },
      );
  }
}

export function toWorkflowState(record: RunRecord, codec: Codec): WorkflowState {
  const state: WorkflowState = {
    id: record.id,
    type: record.type,
    version: record.version,
    status: record.status,
    input: codec.decode(record.input),
    idempotencyKey: record.idempotencyKey,
    createdAt: new Date(record.createdAt),
    updatedAt: new Date(record.updatedAt),
    deadline: record.deadline === null ? null : new Date(record.deadline),
  };
  if (record.status === RunStatus.completed && record.result !== null) state.result = codec.decode(record.result);
  if (record.error !== null) state.error = record.error;
  if (record.failureCategory !== null) state.failureCategory = record.failureCategory;
  return state;
}
