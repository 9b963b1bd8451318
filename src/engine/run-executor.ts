/**
 * Drives one run: advances its generator, answers each durable operation from the journal
 * when it is recorded (replay) or performs it live and journals the outcome before the
 * workflow sees it. This is where "never run a completed step twice" is kept.
 *
 * The steps live beside it, each with the traps it avoids, and borrow the executor's state through
 * narrow host interfaces: `live-steps.ts` (what the run waits on: `activity-step.ts`,
 * `wait-steps.ts`, `composite-step.ts`), `recorded-steps.ts` (steps that take a seq without
 * waiting), `run-stream.ts`, `park-point.ts` (where updates and queries land), `run-transitions.ts`
 * (status changes and their watch frames). The journal in memory is `run-journal.ts`; every write
 * goes through `run-writes.ts`.
 *
 * Traps this file avoids:
 * - Nondeterminism is not thrown into workflow code (it could be caught); it fails the run.
 * - Work after the end: `#stopped` is set before the first await of whatever ends the run (its
 *   end, a halt, an eviction), and every late callback checks it.
 */
import type { Clock } from '../core/clock.ts';
import type { Codec } from '../core/codec.ts';
import {
  ActivityFailedError,
  FailureCategory,
  NondeterminismError,
  serializeError,
  WorkflowCancelledError,
  WorkflowTimedOutError,
} from '../core/errors.ts';
import { isCommand } from '../define/operation.ts';
import type { AnyWorkflowDefinition } from '../define/workflow.ts';
import type { StartChildOptions } from '../define/workflow-context.ts';
import {
  RunStatus,
  type AttributeValue,
  type JournalEntry,
  type Mutation,
  type RunRecord,
  type Storage,
  type UpdateRecord,
} from '../storage/storage.ts';
import type { EngineEventType } from './engine-events.ts';
import { DEADLINE_TIMER, Stop, type ExecutorHost, type Outcome } from './executor-host.ts';
import { LiveSteps, type LiveStepsHost } from './live-steps.ts';
import { ParkPoint, type ParkHost } from './park-point.ts';
import { recordAttribute, recordValue, startChild, type ChildStartHost } from './recorded-steps.ts';
import type { UpdateRequest } from './run-messages.ts';
import { RunJournal } from './run-journal.ts';
import { RunStream } from './run-stream.ts';
import { RunTransitions } from './run-transitions.ts';
import { RunWrites } from './run-writes.ts';
import type { Queueable } from './suspension-queue.ts';
import type { TimerService } from './timer-service.ts';
import { createWorkflowContext, type ContextHost } from './workflow-context.ts';

type ContextServices = ContextHost['services'];
/** What the executor's parts borrow from it, all served by one object (see `#Parts`). */
type PartsHost = LiveStepsHost & ChildStartHost & ParkHost;

export class RunExecutor implements Queueable {
  /** Engine bookkeeping: this run's place in the eviction queue (see SuspensionQueue). */
  suspensionNode: object | undefined = undefined;
  readonly run: RunRecord;
  readonly definition: AnyWorkflowDefinition;
  /** Whether this run started children (so its end must end theirs). */
  startedChildren = false;
  readonly #host: ExecutorHost;
  readonly #journal: RunJournal;
  /** Created on first use: most runs never hand their signal to anyone. */
  #abortController: AbortController | undefined;
  readonly #writes: RunWrites;
  readonly #transitions: RunTransitions;
  readonly #parts: PartsHost;
  readonly #steps: LiveSteps;
  /** Created on first write: most runs never stream. */
  #streamPart: RunStream | undefined;
  readonly #chunkTail: number;
  get #stream(): RunStream {
    return (this.#streamPart ??= new RunStream(this.#parts, this.#chunkTail));
  }
  readonly #parkPoint: ParkPoint;
  #stopped = false;
  #done: Promise<void> = Promise.resolve();
  #freshInput: { known: boolean; value?: unknown } = { known: false };
  #services: ContextServices | undefined;

  /**
   * @param creation for a new run: the rows that create it. They ride along with the run's first
   *   commit — made before the first side effect, wait or completion — so a run that suspends or
   *   finishes at once costs one transaction; `created` settles with that commit.
   */
  constructor(
    host: ExecutorHost,
    definition: AnyWorkflowDefinition,
    run: RunRecord,
    journal: JournalEntry[],
    creation?: Mutation[],
    input?: { value: unknown },
    tails: { watch: number; chunk: number } = { watch: 0, chunk: 0 },
  ) {
    this.#host = host;
    this.definition = definition;
    this.run = run;
    this.#journal = new RunJournal(run, host.codec, host.clock, journal);
    const value = input?.value;
    if (input !== undefined && (value === null || (typeof value !== 'object' && typeof value !== 'function'))) {
      this.#freshInput = { known: true, value };
    }
    const creationFailed = (error: unknown): void => {
      this.#stopped = true;
      this.#abortRun(error);
      this.#releaseAll();
    };
    this.#writes = new RunWrites({ runId: run.id, commit: (m) => host.commit(m), creationFailed }, creation);
    this.#transitions = new RunTransitions(this, host, this.#writes, tails.watch);
    if (creation !== undefined) {
      this.#writes.queue(...this.#transitions.record('workflow:started', run.status, { workflowType: run.type }));
    }
    this.#parts = new RunExecutor.#Parts(this);
    this.#steps = new LiveSteps(this.#parts, creation !== undefined);
    this.#chunkTail = tails.chunk;
    this.#parkPoint = new ParkPoint(this.#parts);
  }

  /** Settles once the run's creating commit did (immediately for a recovered run). */
  get created(): Promise<void> {
    return this.#writes.created;
  }

  get id(): string {
    return this.run.id;
  }

  get signal(): AbortSignal {
    return (this.#abortController ??= new AbortController()).signal;
  }

  /** Time, randomness and checks the workflow context draws on. */
  get services(): ContextServices {
    const host = this.#host;
    return (this.#services ??= {
      now: () => host.clock.now(),
      random: () => host.random.random(),
      uuid: () => host.random.uuid(),
    });
  }

  /** Resolves when the drive loop has ended for any reason. */
  get done(): Promise<void> {
    return this.#done;
  }

  /** Tells the executor which timer rows of its run exist (at recovery). */
  adoptTimer(key: string): void {
    this.#steps.waits.adoptTimer(key);
  }

  start(): void {
    this.#done = this.#drive().catch((error: unknown) => {
      if (error instanceof Stop) return;
      this.#stopped = true;
      this.#abortRun(error);
      this.#host.fault(this, error);
    });
  }

  /** Aborts `ctx.signal` and every activity, and unblocks the drive loop. */
  #abortRun(reason: unknown): void {
    this.#abortController?.abort(reason);
    this.#steps.unblock();
  }

  // ---- the drive loop -------------------------------------------------------------------------

  async #drive(): Promise<void> {
    let generator: AsyncGenerator<unknown, unknown, unknown>;
    try {
      // A new run's input is the caller's value when it is a primitive (nothing to alias); else the
      // stored copy, so this incarnation sees exactly what a replay would.
      const input = this.#freshInput.known ? this.#freshInput.value : this.#host.codec.decode(this.run.input);
      generator = this.definition.execute(createWorkflowContext(this), input);
    } catch (error) {
      return this.#fail(error);
    }
    let feed: Outcome = { ok: true, value: undefined };
    for (;;) {
      let step: IteratorResult<unknown, unknown>;
      try {
        step = feed.ok ? await generator.next(feed.value) : await generator.throw(feed.error);
      } catch (error) {
        if (this.#stopped) return;
        return this.#fail(error);
      }
      if (this.#stopped) return;
      if (step.done) return this.#complete(step.value);
      if (!isCommand(step.value)) {
        return this.#fail(
          new TypeError(
            `Workflow '${this.run.type}' yielded a value that is not a durable operation; use yield* ctx.run(...), yield* ctx.sleep(...) and the like`,
          ),
        );
      }
      try {
        // Replay answers from memory: no promise, no tick per journaled step.
        feed = this.#journal.replayLeaf(step.value) ?? (await this.#steps.perform(step.value));
        // Updates applied while the run was blocked on this step come before its result.
        this.#parkPoint.leave();
      } catch (error) {
        if (error instanceof Stop) return;
        if (error instanceof NondeterminismError) return this.#fail(error, FailureCategory.nondeterminism);
        throw error;
      }
      if (this.#stopped) return;
      if (this.#host.isClosing()) {
        // Keep what this run already did: a closing engine still commits settled steps.
        if (this.#writes.hasPending) await this.#writes.commit(this.#writes.take());
        return;
      }
    }
  }

  // ---- the end --------------------------------------------------------------------------------

  async #complete(value: unknown): Promise<void> {
    let result: Uint8Array;
    try {
      result = this.#host.codec.encode(value, `result of workflow '${this.run.type}'`);
    } catch (error) {
      return this.#fail(error);
    }
    await this.#finish(
      { status: RunStatus.completed, result, error: null, failureCategory: null },
      'workflow:completed',
      { workflowType: this.run.type },
    );
  }

  async #fail(error: unknown, category?: FailureCategory): Promise<void> {
    const failureCategory =
      category ??
      (error instanceof ActivityFailedError
        ? FailureCategory.activity
        : // A divergence at a step that does not yield (now(), setAttribute, startChild) is thrown at the call.
          error instanceof NondeterminismError
          ? FailureCategory.nondeterminism
          : FailureCategory.workflow);
    const serialized = serializeError(error);
    await this.#finish(
      { status: RunStatus.failed, result: null, error: serialized, failureCategory },
      'workflow:failed',
      { workflowType: this.run.type, failureCategory, error: serialized },
    );
  }

  async #finish(
    patch: Pick<RunRecord, 'status' | 'result' | 'error' | 'failureCategory'>,
    event: EngineEventType,
    detail?: Record<string, unknown>,
  ): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const changes = this.#writes.patchRun({ ...patch, updatedAt: this.#host.clock.now() });
    const mutations = this.#writes.take();
    mutations.push(
      ...changes,
      ...this.#transitions.record(event, patch.status, detail),
      ...this.#host.ending(this, patch),
    );
    if (this.#steps.waits.hasTimers) mutations.push({ op: 'deleteRunTimers', runId: this.id });
    await this.#writes.commit(mutations);
    this.#releaseAll();
    Object.assign(this.run, patch);
    this.#host.finished(this);
  }

  /** Ends the run from outside: cancel or execution timeout. Commits before resolving. */
  async terminate(kind: 'cancelled' | 'timed_out'): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const reason = kind === 'cancelled' ? new WorkflowCancelledError(this.id) : new WorkflowTimedOutError(this.id);
    const patch: Pick<RunRecord, 'status' | 'error' | 'failureCategory'> =
      kind === 'cancelled'
        ? { status: RunStatus.cancelled, error: serializeError(reason), failureCategory: null }
        : { status: RunStatus.timedOut, error: serializeError(reason), failureCategory: FailureCategory.timeout };
    this.#abortRun(reason);
    const changes = this.#writes.patchRun({ ...patch, updatedAt: this.#host.clock.now() });
    const mutations = this.#writes.take();
    const event = kind === 'cancelled' ? 'workflow:cancelled' : 'workflow:timed-out';
    mutations.push(
      ...changes,
      { op: 'deleteRunTimers', runId: this.id },
      ...this.#transitions.record(event, patch.status, { workflowType: this.run.type }),
      ...this.#host.ending(this, { ...patch, result: null }),
    );
    this.#releaseAll();
    await this.#writes.commit(mutations);
    Object.assign(this.run, patch);
    this.#host.finished(this);
  }

  /** Resolves when no activity of this run is in flight. */
  idle(): Promise<void> {
    return this.#steps.activities.idle();
  }

  /** Stops driving because the engine closes; in-flight activities are left to finish or abort. */
  async halt(reason: unknown): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#abortRun(reason);
    // Settled steps not yet committed are kept, so the next engine does not repeat them.
    if (this.#writes.hasPending) await this.#writes.commit(this.#writes.take());
  }

  #releaseAll(): void {
    this.#parkPoint.stop(this.run.status);
    this.#steps.release();
  }

  /**
   * Drops this executor if the run is only waiting and everything about it is committed: the
   * journal, the timer rows and the inbox hold all it needs to be rebuilt by replay on the next
   * timer or signal. Returns whether it was evicted.
   */
  tryEvict(): boolean {
    if (this.#stopped || this.#writes.hasPending || this.#writes.committing || this.#writes.creationPending) {
      return false;
    }
    if (this.#parkPoint.hasQueued || !this.#steps.quiet) return false;
    // Nothing is unwound: once the engine drops it, the executor — its generator, its drive loop
    // parked on a step that will never settle — is unreachable and collected as a whole.
    // `#stopped` makes any callback that still arrives a no-op.
    this.#stopped = true;
    return true;
  }

  #offerForEviction(): void {
    if (this.run.status === RunStatus.suspended && !this.#stopped) this.#host.suspended(this);
  }

  // ---- steps that take a seq without waiting (see recorded-steps.ts) ---------------------------

  /** Returns the journaled value of the next step, or produces, records and returns a new one. */
  recordValue<T>(kind: 'now' | 'random' | 'uuid', produce: () => T): T {
    return recordValue(this.#parts, kind, produce);
  }

  /** `ctx.setAttribute`: a journaled step, so a replay does not write it again. */
  setAttribute(name: string, value: AttributeValue): void {
    recordAttribute(this.#parts, name, value);
  }

  /** `ctx.stream.write`: a journaled step, so a replay does not write the chunk again. */
  writeStream(chunk: unknown): void {
    this.#stream.write(chunk);
  }

  /** `actx.stream.write`: committed on its own (activities run at least once; no journal entry). */
  writeActivityChunk(chunk: unknown): Promise<void> {
    return this.#stream.writeFromActivity(chunk);
  }

  /** `ctx.startChild`: a journaled step whose entry commits with the child's creation. */
  startChild(type: string, input: unknown, options: StartChildOptions | undefined): { id: string } {
    return startChild(this.#parts, type, input, options);
  }

  // ---- deliveries from outside (see wait-steps.ts) --------------------------------------------

  /**
   * Delivers a signal: to the oldest waiting step for its name if there is one, else into the
   * durable inbox. Resolves once it is committed either way.
   */
  deliverSignal(name: string, payload: Uint8Array, received: Mutation): Promise<void> {
    return this.#steps.waits.deliverSignal(name, payload, received);
  }

  /** A message for `name` may be in the inbox now (a child's outcome): hand it to a waiting step. */
  inboxChanged(name: string): void {
    this.#steps.waits.inboxChanged(name);
  }

  /** Called by the engine when a timer of this run is due. */
  onTimer(key: string): void {
    if (this.#stopped) return;
    if (key === DEADLINE_TIMER) {
      this.terminate('timed_out').catch((error: unknown) => this.#host.fault(this, error));
      return;
    }
    this.#steps.waits.fire(key);
  }

  // ---- updates and queries (see park-point.ts) ------------------------------------------------

  onUpdate(name: unknown, handler: unknown): void {
    this.#parkPoint.onUpdate(name, handler);
  }

  onQuery(name: unknown, handler: unknown): void {
    this.#parkPoint.onQuery(name, handler);
  }

  /** Applies an update at the run's next park point; resolves with its record once committed. */
  submitUpdate(request: UpdateRequest): Promise<UpdateRecord> {
    return this.#parkPoint.submitUpdate(request);
  }

  /** Answers a query at the run's next park point. */
  query(name: string, args: unknown): Promise<unknown> {
    return this.#parkPoint.query(name, args);
  }

  // ---- what the parts borrow ------------------------------------------------------------------

  /**
   * The one object the parts borrow this executor's state through. Nested in the class so it may
   * read private state; a class so a run pays for one small object with its methods on the
   * prototype — an object of closures would cost every resident run a couple of kilobytes.
   */
  static readonly #Parts = class implements PartsHost {
    readonly #executor: RunExecutor;
    readonly id: string;
    readonly workflowType: string;
    readonly codec: Codec;
    readonly clock: Clock;
    readonly storage: Storage;
    readonly timers: TimerService;
    readonly journal: RunJournal;
    readonly writes: RunWrites;

    constructor(executor: RunExecutor) {
      const host = executor.#host;
      this.#executor = executor;
      this.id = executor.run.id;
      this.workflowType = executor.run.type;
      this.codec = host.codec;
      this.clock = host.clock;
      this.storage = host.storage;
      this.timers = host.timers;
      this.journal = executor.#journal;
      this.writes = executor.#writes;
    }

    isStopped(): boolean {
      return this.#executor.#stopped;
    }

    isClosing(): boolean {
      return this.#executor.#host.isClosing();
    }

    fault(error: unknown): void {
      this.#executor.#host.fault(this.#executor, error);
    }

    runSignal(): AbortSignal {
      return this.#executor.signal;
    }

    event(type: EngineEventType, detail: Record<string, unknown>): Mutation {
      return this.#executor.#host.event(type, this.id, detail);
    }

    activityStream(): { write(chunk: unknown): Promise<void> } {
      return this.#executor.#stream.forActivities;
    }

    statusChange(status: RunStatus): Mutation[] {
      return this.#executor.#transitions.to(status);
    }

    offerForEviction(): void {
      this.#executor.#offerForEviction();
    }

    park(): void {
      this.#executor.#parkPoint.park();
    }

    runStatus(): string {
      return this.#executor.run.status;
    }

    prepareChild(type: string, input: unknown, id: string): { create(extra: Mutation[]): void } {
      return this.#executor.#host.prepareChild(this.#executor, type, input, id);
    }

    childStarted(): void {
      this.#executor.startedChildren = true;
    }
  };
}
