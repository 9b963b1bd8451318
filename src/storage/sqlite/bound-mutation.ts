/**
 * Mutations turned into statement parameters when `commit` is called, and applied when their group
 * is written.
 *
 * Traps it avoids:
 * - Writing what the caller changed afterwards. A commit waits for its group (a later tick), so its
 *   values are captured at the call: records are read field by field and bytes are copied. What the
 *   caller does with its objects after `commit()` returns cannot reach the database.
 * - Driver errors for contract conflicts. SQLite constraint failures become exactly the errors the
 *   contract documents (`WorkflowAlreadyExistsError`, `StorageConflictError` with its conflict), and
 *   "no row changed" becomes `run_missing` / `signal_missing` / `event_seq` / `watch_seq` / `chunk_seq`.
 * - A bad value found half-way through a group. Attribute values are checked here, at the call, so
 *   an unstorable one rejects its own commit before it joins a group.
 */
import { InvalidArgumentError, WorkflowAlreadyExistsError } from '../../core/errors.ts';
import type { AttributeValue, Mutation } from '../storage.ts';
import { StorageConflict, StorageConflictError } from '../storage.ts';
import { encodeAttributeForWrite } from './attribute-value.ts';
import { sqliteCodeOf } from './sqlite-errors.ts';
import { stringifyError } from './sqlite-rows.ts';
import type {
  AttributeKeyParams,
  AttributeParams,
  ChunkParams,
  EventParams,
  InboxParams,
  JournalParams,
  RunParams,
  SQLiteStatements,
  TimerParams,
  UpdateParams,
  UpdateRunParams,
  WatchParams,
} from './sqlite-statements.ts';

export type BoundMutation =
  | { op: 'createRun'; params: RunParams }
  | { op: 'updateRun'; params: UpdateRunParams }
  | { op: 'deleteRun'; id: string }
  | { op: 'appendJournal'; params: JournalParams }
  | { op: 'putTimer'; params: TimerParams }
  | { op: 'deleteTimer'; runId: string; key: string }
  | { op: 'deleteRunTimers'; runId: string }
  | { op: 'enqueueSignal'; params: InboxParams }
  | { op: 'consumeSignal'; id: number }
  | { op: 'setAttributes'; set: AttributeParams[]; remove: AttributeKeyParams[] }
  | { op: 'putUpdate'; params: UpdateParams }
  | { op: 'appendEvent'; params: EventParams }
  | { op: 'pruneEvents'; throughSeq: number }
  | { op: 'appendWatch'; params: WatchParams }
  | { op: 'appendChunk'; params: ChunkParams };

/** Captures one mutation's values now; throws `InvalidArgumentError` for an unknown `op`. */
export function bindMutation(mutation: Mutation): BoundMutation {
  switch (mutation.op) {
    case 'createRun': {
      const { run } = mutation;
      return {
        op: 'createRun',
        params: {
          id: run.id,
          type: run.type,
          version: run.version,
          status: run.status,
          input: copyBytes(run.input),
          result: run.result === null ? null : copyBytes(run.result),
          error: stringifyError(run.error),
          failureCategory: run.failureCategory,
          idempotencyKey: run.idempotencyKey,
          createdAt: run.createdAt,
          updatedAt: run.updatedAt,
          deadline: run.deadline,
          // `?? null`: a caller built before parent runs existed leaves the field out altogether.
          parentId: run.parentId ?? null,
        },
      };
    }
    case 'updateRun': {
      // An `undefined` field leaves the stored value as it is, exactly like an absent one.
      const { status, result, error, failureCategory, updatedAt } = mutation.patch;
      return {
        op: 'updateRun',
        params: {
          id: mutation.id,
          setStatus: status !== undefined,
          status: status ?? null,
          setResult: result !== undefined,
          result: result == null ? null : copyBytes(result),
          setError: error !== undefined,
          error: error === undefined ? null : stringifyError(error),
          setFailureCategory: failureCategory !== undefined,
          failureCategory: failureCategory ?? null,
          setUpdatedAt: updatedAt !== undefined,
          updatedAt: updatedAt ?? null,
        },
      };
    }
    case 'deleteRun':
      return { op: 'deleteRun', id: mutation.id };
    case 'appendJournal': {
      const { entry } = mutation;
      return {
        op: 'appendJournal',
        params: {
          runId: entry.runId,
          seq: entry.seq,
          kind: entry.kind,
          name: entry.name,
          ok: entry.ok,
          value: entry.value === null ? null : copyBytes(entry.value),
          error: stringifyError(entry.error),
          createdAt: entry.createdAt,
        },
      };
    }
    case 'putTimer': {
      const { runId, key, fireAt } = mutation.timer;
      return { op: 'putTimer', params: { runId, key, fireAt } };
    }
    case 'deleteTimer':
      return { op: 'deleteTimer', runId: mutation.runId, key: mutation.key };
    case 'deleteRunTimers':
      return { op: 'deleteRunTimers', runId: mutation.runId };
    case 'enqueueSignal': {
      const { runId, name, payload, createdAt } = mutation.message;
      return { op: 'enqueueSignal', params: { runId, name, payload: copyBytes(payload), createdAt } };
    }
    case 'consumeSignal':
      return { op: 'consumeSignal', id: mutation.id };
    case 'setAttributes':
      return bindAttributes(mutation.runId, mutation.attributes);
    case 'putUpdate': {
      const { update } = mutation;
      return {
        op: 'putUpdate',
        params: {
          id: update.id,
          runId: update.runId,
          name: update.name,
          idempotencyKey: update.idempotencyKey,
          status: update.status,
          result: update.result === null ? null : copyBytes(update.result),
          error: stringifyError(update.error),
          createdAt: update.createdAt,
          completedAt: update.completedAt,
        },
      };
    }
    case 'appendEvent': {
      const { seq, type, runId, at, data } = mutation.event;
      return { op: 'appendEvent', params: { seq, type, runId, at, data: data === null ? null : copyBytes(data) } };
    }
    case 'pruneEvents':
      return { op: 'pruneEvents', throughSeq: mutation.throughSeq };
    case 'appendWatch': {
      const { runId, seq, type, status, at, data } = mutation.frame;
      return {
        op: 'appendWatch',
        params: { runId, seq, type, status, at, data: data === null ? null : copyBytes(data) },
      };
    }
    case 'appendChunk': {
      const { runId, seq, data, at } = mutation.chunk;
      return { op: 'appendChunk', params: { runId, seq, at, data: copyBytes(data) } };
    }
    default: {
      // Only reachable from untyped callers; the type system already rules it out.
      const unknown: never = mutation;
      throw new InvalidArgumentError(`Unknown storage mutation ${JSON.stringify((unknown as { op?: unknown }).op)}`);
    }
  }
}

/** Runs one mutation's statements; throws the contract's conflict error, or SQLite's for anything else. */
export function applyBoundMutation(statements: SQLiteStatements, mutation: BoundMutation): void {
  switch (mutation.op) {
    case 'createRun':
      try {
        statements.insertRun.run(mutation.params);
      } catch (error) {
        throw createRunConflict(statements, mutation.params, error);
      }
      return;
    case 'updateRun':
      if (statements.updateRun.run(mutation.params).changes === 0) {
        throw new StorageConflictError(StorageConflict.runMissing, `No run with id '${mutation.params.id}' to update`);
      }
      return;
    case 'deleteRun': {
      // Cascades by run id even when the run row is missing, so orphaned rows cannot outlive it.
      const runId = mutation.id;
      statements.deleteRun.run({ id: runId });
      statements.deleteRunJournal.run({ runId });
      statements.deleteRunTimers.run({ runId });
      statements.deleteRunInbox.run({ runId });
      statements.deleteRunAttributes.run({ runId });
      statements.deleteRunUpdates.run({ runId });
      statements.deleteRunWatch.run({ runId });
      statements.deleteRunChunks.run({ runId });
      // Fleet events stay: the log is the fleet's history, not the run's.
      return;
    }
    case 'appendJournal':
      try {
        statements.insertJournal.run(mutation.params);
      } catch (error) {
        if (!isConstraint(error)) throw error;
        const { runId, seq } = mutation.params;
        throw new StorageConflictError(
          StorageConflict.journalSeq,
          `Run '${runId}' already has a journal entry at seq ${seq}`,
        );
      }
      return;
    case 'putTimer':
      statements.putTimer.run(mutation.params);
      return;
    case 'deleteTimer':
      statements.deleteTimer.run({ runId: mutation.runId, key: mutation.key });
      return;
    case 'deleteRunTimers':
      statements.deleteRunTimers.run({ runId: mutation.runId });
      return;
    case 'enqueueSignal':
      statements.insertInbox.run(mutation.params);
      return;
    case 'consumeSignal':
      if (statements.deleteInbox.run({ id: mutation.id }).changes === 0) {
        throw new StorageConflictError(
          StorageConflict.signalMissing,
          `Inbox message ${mutation.id} is gone (already consumed?)`,
        );
      }
      return;
    case 'setAttributes':
      for (const params of mutation.set) statements.putAttribute.run(params);
      for (const params of mutation.remove) statements.deleteAttribute.run(params);
      return;
    case 'putUpdate':
      try {
        statements.putUpdate.run(mutation.params);
      } catch (error) {
        throw putUpdateConflict(statements, mutation.params, error);
      }
      return;
    case 'appendEvent':
      if (statements.insertEvent.run(mutation.params).changes === 0) {
        throw new StorageConflictError(StorageConflict.eventSeq, `Event seq ${mutation.params.seq} is taken`);
      }
      return;
    case 'pruneEvents':
      statements.pruneEvents.run({ throughSeq: mutation.throughSeq });
      return;
    case 'appendWatch':
      if (statements.insertWatch.run(mutation.params).changes === 0) {
        const { runId, seq } = mutation.params;
        throw new StorageConflictError(
          StorageConflict.watchSeq,
          `Run '${runId}' already has a watch frame at seq ${seq}`,
        );
      }
      return;
    case 'appendChunk':
      if (statements.insertChunk.run(mutation.params).changes === 0) {
        const { runId, seq } = mutation.params;
        throw new StorageConflictError(
          StorageConflict.chunkSeq,
          `Run '${runId}' already has a stream chunk at seq ${seq}`,
        );
      }
      return;
  }
}

/** Splits the record into upserts and deletions; `undefined` leaves an attribute as it is, like a patch field. */
function bindAttributes(
  runId: string,
  attributes: Readonly<Record<string, AttributeValue | null | undefined>>,
): BoundMutation {
  const set: AttributeParams[] = [];
  const remove: AttributeKeyParams[] = [];
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    if (value === null) remove.push({ runId, key });
    else set.push({ runId, key, ...encodeAttributeForWrite(runId, key, value) });
  }
  return { op: 'setAttributes', set, remove };
}

/** The only unique index a put can break besides the id it upserts on is (run_id, idempotency_key). */
function putUpdateConflict(statements: SQLiteStatements, update: UpdateParams, error: unknown): unknown {
  if (!isConstraint(error) || update.idempotencyKey === null) return error;
  const holder = statements.selectUpdateByKey.get({ runId: update.runId, key: update.idempotencyKey });
  if (holder && holder.id !== update.id) {
    return new StorageConflictError(
      StorageConflict.updateKey,
      `Idempotency key '${update.idempotencyKey}' of run '${update.runId}' is already used by update '${holder.id}'`,
    );
  }
  return error;
}

/** A taken id wins over a taken key, as in every adapter; a non-constraint error passes through. */
function createRunConflict(statements: SQLiteStatements, run: RunParams, error: unknown): unknown {
  if (!isConstraint(error)) return error;
  if (statements.selectRun.get({ id: run.id })) return new WorkflowAlreadyExistsError(run.id);
  const holder = run.idempotencyKey === null ? null : statements.selectRunIdByKey.get({ key: run.idempotencyKey });
  if (holder) {
    return new StorageConflictError(
      StorageConflict.idempotencyKey,
      `Idempotency key '${run.idempotencyKey}' is already used by run '${holder.id}'`,
    );
  }
  return error;
}

function isConstraint(error: unknown): boolean {
  return sqliteCodeOf(error)?.startsWith('SQLITE_CONSTRAINT') ?? false;
}

/** `new Uint8Array(bytes)`, not `.slice()`: a `Buffer`'s `slice` is a view, not a copy. */
function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
