/**
 * Updates and queries of one run: the handlers its code registered (`ctx.onUpdate`, `ctx.onQuery`),
 * and when they may run.
 *
 * An update changes workflow state, so where it lands among the run's steps must be the same on
 * every replay. It is applied only while the drive loop is parked on a step (never while workflow
 * code runs) and takes the next journal seq, so the journal places it right after the step the
 * run was blocked on. Replay applies a journaled update at the same place: after allocating that
 * step and before feeding its result back to the code — which is exactly when it ran live.
 *
 * Traps it avoids:
 * - Applying an update mid-replay: until the run parks, updates and queries wait in a queue.
 * - A second seq for one position: updates journaled by an earlier incarnation at the park point are
 *   replayed before any new update takes a seq there.
 * - Answering before the update is durable: the caller hears back after the journal entry and the
 *   update row committed together.
 */
import { clip } from '../core/clip.ts';
import type { Codec } from '../core/codec.ts';
import {
  InvalidArgumentError,
  NondeterminismError,
  QueryNotHandledError,
  serializeError,
  UpdateNotHandledError,
  WorkflowNotRunningError,
} from '../core/errors.ts';
import type { JournalEntry, Mutation, UpdateRecord } from '../storage/storage.ts';
import type { Outcome } from './executor-host.ts';
import { encodedEntry, recordedCall, verifyStep } from './journal-entries.ts';

export interface UpdateRequest {
  id: string;
  name: string;
  payload: Uint8Array;
  idempotencyKey: string | null;
  createdAt: number;
}

/** What the run executor lends its messages. */
export interface MessagesHost {
  readonly id: string;
  readonly workflowType: string;
  readonly codec: Codec;
  now(): number;
  journalAt(seq: number): JournalEntry | undefined;
  /** Allocates the next journal seq. */
  takeSeq(): number;
  peekSeq(): number;
  /** Commits an applied update with the run's pending writes, durably; records the entry once committed. */
  commitUpdate(entry: JournalEntry, writes: Mutation[]): Promise<void>;
  updateEvent(name: string, updateId: string, ok: boolean): Mutation;
  /** True while the drive loop waits on a step (workflow code is not running). */
  isParked(): boolean;
}

type Queued =
  | { kind: 'update'; request: UpdateRequest; done: PromiseWithResolvers<UpdateRecord> }
  | { kind: 'query'; name: string; args: unknown; done: PromiseWithResolvers<unknown> };

type Handler = (value: unknown) => unknown;

export class RunMessages {
  readonly #host: MessagesHost;
  #updates: Map<string, Handler> | undefined;
  #queries: Map<string, Handler> | undefined;
  #queue: Queued[] = [];
  #stopped: { status: string } | undefined;

  constructor(host: MessagesHost) {
    this.#host = host;
  }

  onUpdate(name: unknown, handler: unknown): void {
    checkHandler('ctx.onUpdate', name, handler);
    (this.#updates ??= new Map()).set(name, handler);
  }

  onQuery(name: unknown, handler: unknown): void {
    checkHandler('ctx.onQuery', name, handler);
    (this.#queries ??= new Map()).set(name, handler);
  }

  /**
   * Re-applies the updates the journal holds at the next seq (recorded while the run was parked
   * here before). Their outcome is already recorded; the handler runs again only to rebuild state.
   */
  replayJournaled(): void {
    for (let entry = this.#host.journalAt(this.#host.peekSeq()); entry?.kind === 'update';) {
      const seq = this.#host.takeSeq();
      verifyStep(this.#host.workflowType, seq, entry, 'update', entry.name);
      const { payload } = this.#host.codec.decode(entry.value!) as { payload: Uint8Array };
      const handler = this.#updates?.get(entry.name);
      if (handler === undefined) {
        throw new NondeterminismError(this.#host.workflowType, seq, recordedCall(entry), {
          kind: 'none',
          name: '',
          call: `nothing there: it registers no onUpdate('${clip(entry.name, 80)}') handler`,
        });
      }
      try {
        runHandler(handler, this.#host.codec.decode(payload));
      } catch {
        // It threw the first time too (the journal says so): the state it left is what counts.
      }
      entry = this.#host.journalAt(this.#host.peekSeq());
    }
  }

  /** True while updates or queries wait for the run to park. */
  get hasQueued(): boolean {
    return this.#queue.length > 0;
  }

  /** Called once the drive loop is parked (journaled updates replayed): handles what queued up meanwhile. */
  drain(): void {
    const queue = this.#queue;
    this.#queue = [];
    for (const queued of queue) this.#handle(queued);
  }

  /** Applies the update at the next park point (now, if parked); resolves once it is committed. */
  submitUpdate(request: UpdateRequest): Promise<UpdateRecord> {
    return this.#enqueue({ kind: 'update', request, done: Promise.withResolvers<UpdateRecord>() });
  }

  /** Answers the query at the next park point (now, if parked) with a copy of the handler's value. */
  query(name: string, args: unknown): Promise<unknown> {
    return this.#enqueue({ kind: 'query', name, args, done: Promise.withResolvers<unknown>() });
  }

  /** The run ended: what still waits fails with `workflow_not_running`. */
  stop(status: string): void {
    this.#stopped = { status };
    const queue = this.#queue;
    this.#queue = [];
    for (const queued of queue) queued.done.reject(new WorkflowNotRunningError(this.#host.id, status));
  }

  #enqueue<T extends Queued>(queued: T): T['done']['promise'] {
    if (this.#stopped !== undefined) {
      return Promise.reject(new WorkflowNotRunningError(this.#host.id, this.#stopped.status));
    }
    if (this.#host.isParked()) this.#handle(queued);
    else this.#queue.push(queued);
    return queued.done.promise;
  }

  #handle(queued: Queued): void {
    if (queued.kind === 'query') return this.#answer(queued);
    const { request, done } = queued;
    const handler = this.#updates?.get(request.name);
    if (handler === undefined) return done.reject(new UpdateNotHandledError(this.#host.id, request.name));
    const codec = this.#host.codec;
    const seq = this.#host.takeSeq();
    let outcome: Outcome;
    let result: Uint8Array | null = null;
    try {
      const value = runHandler(handler, codec.decode(request.payload));
      result = codec.encode(value, `result of update '${request.name}'`);
      outcome = { ok: true, value: null };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const record = { payload: request.payload, updateId: request.id };
    const entry = encodedEntry(this.#host.id, seq, 'update', request.name, outcome, this.#host.now());
    // The entry keeps the payload (a replay runs the handler again), ok or not.
    entry.value = codec.encode(record, `payload of update '${request.name}'`);
    const update: UpdateRecord = {
      id: request.id,
      runId: this.#host.id,
      name: request.name,
      idempotencyKey: request.idempotencyKey,
      status: outcome.ok ? 'completed' : 'failed',
      result,
      error: outcome.ok ? null : serializeError(outcome.error),
      createdAt: request.createdAt,
      completedAt: this.#host.now(),
    };
    const writes: Mutation[] = [
      { op: 'appendJournal', entry },
      { op: 'putUpdate', update },
      this.#host.updateEvent(request.name, request.id, outcome.ok),
    ];
    this.#host.commitUpdate(entry, writes).then(() => done.resolve(update), done.reject);
  }

  #answer(queued: Queued & { kind: 'query' }): void {
    const handler = this.#queries?.get(queued.name);
    if (handler === undefined) return queued.done.reject(new QueryNotHandledError(this.#host.id, queued.name));
    try {
      const codec = this.#host.codec;
      // Through the codec: the caller gets a copy it cannot use to reach into workflow state.
      queued.done.resolve(
        codec.decode(codec.encode(runHandler(handler, queued.args), `result of query '${queued.name}'`)),
      );
    } catch (error) {
      queued.done.reject(error);
    }
  }
}

function runHandler(handler: Handler, value: unknown): unknown {
  const result = handler(value);
  if (typeof (result as { then?: unknown } | null)?.then === 'function') {
    throw new InvalidArgumentError('update and query handlers must be synchronous (they returned a promise)');
  }
  return result;
}

function checkHandler(what: string, name: unknown, handler: unknown): void {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError(`${what} needs a non-empty name`);
  if (typeof handler !== 'function') throw new InvalidArgumentError(`${what}('${name}') needs a handler function`);
}
