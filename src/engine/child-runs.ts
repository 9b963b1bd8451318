/**
 * How a child run reports back to its parent. A child's terminal commit also puts its outcome in
 * the parent's durable inbox under a reserved name, and `yield* child.result()` is a wait on that
 * name — so the hand-over is as durable as a signal: a crash between the child's end and the
 * parent's wake-up loses nothing (recovery resumes runs with inbox messages), and the outcome is
 * journaled in the parent once taken.
 *
 * Trap it avoids: a user signal posing as a child's outcome. Names under `weft:` are reserved;
 * `engine.signal` refuses them.
 */
import type { Codec } from '../core/codec.ts';
import { ChildWorkflowFailedError, serializeError, type SerializedError } from '../core/errors.ts';
import { RunStatus, type JournalEntry, type Mutation, type RunRecord } from '../storage/storage.ts';

/** Signal names with this prefix are the engine's own. */
export const RESERVED_SIGNAL_PREFIX = 'weft:';
const CHILD_PREFIX = `${RESERVED_SIGNAL_PREFIX}child:`;

export function childInboxName(childId: string): string {
  return CHILD_PREFIX + childId;
}

export function isChildInbox(name: string): boolean {
  return name.startsWith(CHILD_PREFIX);
}

type ChildOutcome = { ok: true; result: Uint8Array | null } | { ok: false; error: SerializedError };

/** The message a finished child leaves in its parent's inbox, with its terminal commit. */
export function childOutcomeMessage(
  child: RunRecord,
  end: { status: RunStatus; result: Uint8Array | null; error: SerializedError | null },
  codec: Codec,
  now: number,
): Mutation {
  const outcome: ChildOutcome =
    end.status === RunStatus.completed
      ? { ok: true, result: end.result }
      : { ok: false, error: serializeError(new ChildWorkflowFailedError(child.id, end.status, end.error ?? unknown())) };
  return {
    op: 'enqueueSignal',
    message: {
      runId: child.parentId!,
      name: childInboxName(child.id),
      payload: codec.encode(outcome, `outcome of child '${child.id}'`),
      createdAt: now,
    },
  };
}

/** The message for a child that could not be created (its id was taken). */
export function childNotCreatedMessage(parentId: string, childId: string, error: unknown, codec: Codec, now: number): Mutation {
  const outcome: ChildOutcome = {
    ok: false,
    error: serializeError(new ChildWorkflowFailedError(childId, 'not created', serializeError(error))),
  };
  return {
    op: 'enqueueSignal',
    message: { runId: parentId, name: childInboxName(childId), payload: codec.encode(outcome, 'child outcome'), createdAt: now },
  };
}

/** The parent's journal entry for a taken child outcome: the child's result, or its failure as this step's error. */
export function childOutcomeEntry(
  runId: string,
  seq: number,
  name: string,
  payload: Uint8Array,
  codec: Codec,
  now: number,
): JournalEntry {
  const outcome = codec.decode(payload) as ChildOutcome;
  return {
    runId,
    seq,
    kind: 'signal',
    name,
    ok: outcome.ok,
    value: outcome.ok ? outcome.result : null,
    error: outcome.ok ? null : outcome.error,
    createdAt: now,
  };
}

function unknown(): SerializedError {
  return { name: 'Error', message: 'unknown failure' };
}
