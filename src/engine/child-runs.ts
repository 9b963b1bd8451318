/**
 * How a child run reports back to its parent. A child's terminal commit also puts its outcome in
 * the parent's durable inbox under a reserved name, and `yield* child.result()` is a wait on that
 * name — so the hand-over is as durable as a signal: a crash between the child's end and the
 * parent's wake-up loses nothing (recovery resumes runs with inbox messages), and the outcome is
 * journaled in the parent once taken.
 *
 * The engine's side lives here too: creating a child with its parent's journal entry, and ending a
 * parent's unfinished children when it ends (children do not outlive their parent).
 *
 * Traps it avoids:
 * - A user signal posing as a child's outcome. Names under `weft:` are reserved; `engine.signal`
 *   refuses them.
 * - A parent that waits forever for a child that could not be created (its id was taken): the
 *   parent's writes still commit, with a failed outcome in its inbox.
 */
import type { Clock } from '../core/clock.ts';
import type { Codec } from '../core/codec.ts';
import {
  ChildWorkflowFailedError,
  serializeError,
  WorkflowNotFoundError,
  WorkflowNotRunningError,
  WorkflowTypeNotRegisteredError,
  type SerializedError,
} from '../core/errors.ts';
import type { AnyWorkflowDefinition } from '../define/workflow.ts';
import {
  RunStatus,
  UNFINISHED_STATUSES,
  type JournalEntry,
  type Mutation,
  type RunRecord,
  type Storage,
} from '../storage/storage.ts';
import { checkKey } from './engine-options.ts';
import type { RunEnd } from './executor-host.ts';
import type { RunExecutor } from './run-executor.ts';
import { validateNow } from './schema-validation.ts';

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
  if (end.status === RunStatus.completed)
    return outcomeMessage(child.parentId!, child.id, { ok: true, result: end.result }, codec, now);
  return failedChildMessage(child.parentId!, child.id, end.status, end.error ?? unknown(), codec, now);
}

/** The message for a child that could not be created (its id was taken). */
export function childNotCreatedMessage(
  parentId: string,
  childId: string,
  error: unknown,
  codec: Codec,
  now: number,
): Mutation {
  return failedChildMessage(parentId, childId, 'not created', serializeError(error), codec, now);
}

function failedChildMessage(
  parentId: string,
  childId: string,
  how: string,
  cause: SerializedError,
  codec: Codec,
  now: number,
): Mutation {
  const error = serializeError(new ChildWorkflowFailedError(childId, how, cause));
  return outcomeMessage(parentId, childId, { ok: false, error }, codec, now);
}

function outcomeMessage(parentId: string, childId: string, outcome: ChildOutcome, codec: Codec, now: number): Mutation {
  const payload = codec.encode(outcome, `outcome of child '${childId}'`);
  return { op: 'enqueueSignal', message: { runId: parentId, name: childInboxName(childId), payload, createdAt: now } };
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

/** How the engine creates a run; children pass `parentId` and the parent's writes as `extra`. */
export interface CreateRunOptions {
  idempotencyKey?: string;
  timeoutMs?: number | undefined;
  parentId?: string;
  /** Written in the run's creating commit. */
  extra?: Mutation[];
}

/** What child-run bookkeeping needs from the engine. */
export interface ChildRunsHost {
  storage: Storage;
  codec: Codec;
  clock: Clock;
  definition(type: string): AnyWorkflowDefinition | undefined;
  create(
    definition: AnyWorkflowDefinition,
    id: string,
    input: Uint8Array,
    inputValue: unknown,
    options: CreateRunOptions,
  ): Promise<string>;
  commit(mutations: Mutation[]): Promise<void>;
  cancel(id: string): Promise<void>;
  /** A message for `name` was committed to the run's inbox outside its executor. */
  notifyInbox(id: string, name: string): void;
  fault(executor: RunExecutor, error: unknown): void;
  reportError(id: string, error: unknown): void;
  isClosing(): boolean;
}

export class ChildRuns {
  readonly #host: ChildRunsHost;
  /** Parents whose children are being cancelled, so `cancel()` can wait for them. */
  readonly #cascades = new Map<string, Promise<void>>();

  constructor(host: ChildRunsHost) {
    this.#host = host;
  }

  /** Writes that go with a run's terminal commit: a child's outcome for its parent. */
  endingWrites(run: RunRecord, end: RunEnd): Mutation[] {
    if (run.parentId === null) return [];
    return [childOutcomeMessage(run, end, this.#host.codec, this.#host.clock.now())];
  }

  /** After a run's terminal commit: its parent takes the outcome, and its unfinished children end. */
  afterEnd(run: RunRecord, startedChildren: boolean): void {
    if (run.parentId !== null) this.#host.notifyInbox(run.parentId, childInboxName(run.id));
    if (!startedChildren || this.#host.isClosing()) return;
    const cascade = this.#cancelChildren(run.id).finally(() => {
      if (this.#cascades.get(run.id) === cascade) this.#cascades.delete(run.id);
    });
    this.#cascades.set(run.id, cascade);
    cascade.catch((error: unknown) => this.#host.reportError(run.id, error));
  }

  cascadeOf(parentId: string): Promise<void> | undefined {
    return this.#cascades.get(parentId);
  }

  /** Checks a `ctx.startChild` call; the returned `create` makes the child with the parent's writes. */
  prepare(parent: RunExecutor, type: string, input: unknown, id: string): { create(extra: Mutation[]): void } {
    const host = this.#host;
    const definition = host.definition(type);
    if (definition === undefined) throw new WorkflowTypeNotRegisteredError([type]);
    checkKey(id, 'child workflow id');
    // Checked here, synchronously: the parent's journal entry rides the child's creating commit,
    // which must not wait behind later steps of the parent (see schema-validation.ts).
    const value =
      definition.inputSchema === undefined
        ? input
        : validateNow(definition.inputSchema, input, `input of child workflow '${type}'`);
    const inputBytes = host.codec.encode(value, `input of child workflow '${type}'`);
    return {
      create: (extra) => {
        host.create(definition, id, inputBytes, value, { parentId: parent.id, extra }).catch(async (error: unknown) => {
          const notCreated = childNotCreatedMessage(parent.id, id, error, host.codec, host.clock.now());
          try {
            await host.commit([...extra, notCreated]);
            parent.inboxChanged(childInboxName(id));
          } catch (commitError) {
            host.fault(parent, commitError);
          }
        });
      },
    };
  }

  async #cancelChildren(parentId: string): Promise<void> {
    for (;;) {
      const { runs } = await this.#host.storage.listRuns({ parentId, statuses: UNFINISHED_STATUSES }, { limit: 100 });
      if (runs.length === 0 || this.#host.isClosing()) return;
      const results = await Promise.allSettled(runs.map((child) => this.#host.cancel(child.id)));
      const failed = results.find(
        (r): r is PromiseRejectedResult =>
          r.status === 'rejected' &&
          !(r.reason instanceof WorkflowNotRunningError || r.reason instanceof WorkflowNotFoundError),
      );
      if (failed !== undefined) throw failed.reason;
    }
  }
}
