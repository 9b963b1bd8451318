/**
 * Drives one run: advances its generator, answers each durable operation from the journal
 * when it is recorded (replay) or performs it live and journals the outcome before the
 * workflow sees it. This is where "never run a completed step twice" is kept.
 *
 * Traps this file avoids:
 * - A step is settled synchronously (flag set before any await), so a timer and a signal
 *   racing for the same wait cannot both win.
 * - Signal delivery and the inbox check of a new wait share one lock, so a signal arriving
 *   while a wait reads the inbox is neither lost nor delivered out of order.
 * - Nondeterminism is not thrown into workflow code (it could be caught); it fails the run.
 */
import {
  ActivityFailedError,
  FailureCategory,
  NondeterminismError,
  serializeError,
  StreamClosedError,
  WorkflowCancelledError,
  WorkflowNotRunningError,
  WorkflowTimedOutError,
} from '../core/errors.ts';
import { isCommand, isComposite, type Command, type LeafCommand } from '../define/operation.ts';
import type { AnyWorkflowDefinition } from '../define/workflow.ts';
import {
  RunStatus,
  type AttributeValue,
  type JournalEntry,
  type Mutation,
  type RunPatch,
  type RunRecord,
  type UpdateRecord,
} from '../storage/storage.ts';
import { runActivity } from './activity-runner.ts';
import {
  DEADLINE_TIMER,
  STOP,
  Stop,
  stepTimerKey,
  type ExecutorHost,
  type LiveStep,
  type Outcome,
  type SettleFn,
  type SettleOptions,
} from './executor-host.ts';
import { encodedEntry, leafName, outcomeOf, valueEntry, verifyStep } from './journal-entries.ts';
import { performComposite, type CompositeHost } from './composite-step.ts';
import { SignalWaits, type Delivery } from './signal-waits.ts';
import type { Queueable } from './suspension-queue.ts';
import { createWorkflowContext, type ContextHost } from './workflow-context.ts';
import type { EngineEventType } from './engine-events.ts';
import { RunMessages, type MessagesHost, type UpdateRequest } from './run-messages.ts';
import { childOutcomeEntry, isChildInbox } from './child-runs.ts';
import { checkAttribute } from './run-listing.ts';
import type { StartChildOptions } from '../define/workflow-context.ts';

type ContextServices = ContextHost['services'];

export class RunExecutor implements Queueable {
  /** Engine bookkeeping: this run's place in the eviction queue (see SuspensionQueue). */
  suspensionTicket = -1;
  readonly run: RunRecord;
  readonly definition: AnyWorkflowDefinition;
  readonly #host: ExecutorHost;
  /** Journal entries by seq (dense from 0): an array, since replay looks up every step. */
  readonly #journal: (JournalEntry | undefined)[] = [];
  /** Created on first use: most runs never hand their signal to anyone. */
  #abortController: AbortController | undefined;
  readonly #live = new Map<number, LiveStep>();
  readonly #signals = new SignalWaits();
  /** Recorded values (now/random/uuid) not yet committed; they go with the run's next commit. */
  #pending: Mutation[] = [];
  #nextSeq = 0;
  #activitiesInFlight = 0;
  #stopped = false;
  /** Keys of this run's timer rows (created on first use: many runs never sleep). */
  #timerKeySet: Set<string> | undefined;
  get #timerKeys(): Set<string> {
    return (this.#timerKeySet ??= new Set());
  }
  /** True while a composite starts its children: status is decided once all have started. */
  #composing = false;
  #idle: PromiseWithResolvers<void> | undefined;
  #done: Promise<void> = Promise.resolve();
  /** The step the drive loop awaits; rejected with `Stop` when the run is ended from outside. */
  #awaited: PromiseWithResolvers<Outcome> | undefined;

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
    this.#watchSeq = tails.watch;
    this.#chunkSeq = tails.chunk;
    for (const entry of journal) this.#journal[entry.seq] = entry;
    const value = input?.value;
    if (input !== undefined && (value === null || (typeof value !== 'object' && typeof value !== 'function'))) {
      this.#freshInput = { known: true, value };
    }
    if (creation !== undefined) {
      this.#pending = [...creation, ...this.#stateChange('workflow:started', run.status, { workflowType: run.type })];
      this.#creation = {
        mutation: creation[0] as Mutation & { op: 'createRun' },
        taken: false,
        committed: false,
        ...Promise.withResolvers(),
      };
      this.#creation.promise.catch(() => undefined);
      this.#signals.inboxMayHoldMessages = false;
    }
  }

  #freshInput: { known: boolean; value?: unknown } = { known: false };

  /** Settles once the run's creating commit did (immediately for a recovered run). */
  get created(): Promise<void> {
    return this.#creation?.promise ?? Promise.resolve();
  }

  #creation:
    | (PromiseWithResolvers<void> & { mutation: Mutation & { op: 'createRun' }; taken: boolean; committed: boolean })
    | undefined;

  /** Every write of this run goes through here, so the creating rows go first and their failure stops the run. */
  async #commit(mutations: Mutation[]): Promise<void> {
    const creation = this.#creation;
    const carriesCreation = creation !== undefined && creation.taken && mutations.includes(creation.mutation);
    this.#commitsInFlight++;
    try {
      await this.#host.commit(mutations);
    } catch (error) {
      if (!carriesCreation) throw error;
      this.#stopped = true;
      this.#abortRun(error);
      this.#releaseAll();
      creation.reject(error);
      throw STOP;
    } finally {
      this.#commitsInFlight--;
    }
    if (carriesCreation) {
      creation.committed = true;
      creation.resolve();
    }
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

  #services: ContextServices | undefined;

  /** Resolves when the drive loop has ended for any reason. */
  get done(): Promise<void> {
    return this.#done;
  }

  /** Tells the executor which timer rows of its run exist (at recovery). */
  adoptTimer(key: string): void {
    this.#timerKeys.add(key);
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
    this.#awaited?.reject(STOP);
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
        feed = this.#replayLeaf(step.value) ?? (await this.#perform(step.value));
        this.#parked = false;
        // Updates applied while the run was blocked on this step come before its result.
        this.#replayUpdates();
      } catch (error) {
        if (error instanceof Stop) return;
        if (error instanceof NondeterminismError) return this.#fail(error, FailureCategory.nondeterminism);
        throw error;
      }
      if (this.#stopped) return;
      if (this.#host.isClosing()) {
        // Keep what this run already did: a closing engine still commits settled steps.
        if (this.#pending.length > 0) await this.#commit(this.#takePending());
        return;
      }
    }
  }

  async #complete(value: unknown): Promise<void> {
    let result: Uint8Array;
    try {
      result = this.#host.codec.encode(value, `result of workflow '${this.run.type}'`);
    } catch (error) {
      return this.#fail(error);
    }
    await this.#finish({ status: RunStatus.completed, result, error: null, failureCategory: null }, 'workflow:completed');
  }

  async #fail(error: unknown, category?: FailureCategory): Promise<void> {
    const failureCategory =
      category ?? (error instanceof ActivityFailedError ? FailureCategory.activity : FailureCategory.workflow);
    const serialized = serializeError(error);
    await this.#finish({ status: RunStatus.failed, result: null, error: serialized, failureCategory }, 'workflow:failed', {
      failureCategory,
      error: serialized,
    });
  }

  async #finish(
    patch: Pick<RunRecord, 'status' | 'result' | 'error' | 'failureCategory'>,
    event: EngineEventType,
    detail?: Record<string, unknown>,
  ): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const changes = this.#patchRun({ ...patch, updatedAt: this.#host.clock.now() });
    const mutations = this.#takePending();
    mutations.push(...changes, ...this.#stateChange(event, patch.status, detail), ...this.#host.ending(this, patch));
    if ((this.#timerKeySet?.size ?? 0) > 0) mutations.push({ op: 'deleteRunTimers', runId: this.id });
    await this.#commit(mutations);
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
    const changes = this.#patchRun({ ...patch, updatedAt: this.#host.clock.now() });
    const mutations = this.#takePending();
    const event = kind === 'cancelled' ? 'workflow:cancelled' : 'workflow:timed-out';
    mutations.push(
      ...changes,
      { op: 'deleteRunTimers', runId: this.id },
      ...this.#stateChange(event, patch.status),
      ...this.#host.ending(this, { ...patch, result: null }),
    );
    this.#releaseAll();
    await this.#commit(mutations);
    Object.assign(this.run, patch);
    this.#host.finished(this);
  }

  /** Resolves when no activity of this run is in flight. */
  idle(): Promise<void> {
    if (this.#activitiesInFlight === 0) return Promise.resolve();
    this.#idle ??= Promise.withResolvers<void>();
    return this.#idle.promise;
  }

  /** Stops driving because the engine closes; in-flight activities are left to finish or abort. */
  async halt(reason: unknown): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#abortRun(reason);
    // Settled steps not yet committed are kept, so the next engine does not repeat them.
    if (this.#pending.length > 0) await this.#commit(this.#takePending());
  }

  #releaseAll(): void {
    this.#messagesCache?.stop(this.run.status);
    for (const step of this.#live.values()) step.abandon();
    this.#live.clear();
    this.#signals.clear();
    if (this.#timerKeySet !== undefined) {
      this.#host.timers.cancelRun(this.id, this.#timerKeySet);
      this.#timerKeySet.clear();
    }
  }

  #takePending(): Mutation[] {
    const pending = this.#pending;
    this.#pending = [];
    if (this.#creation !== undefined) this.#creation.taken = true;
    return pending;
  }

  /** Changes the run row: folded into the creating row while that is still pending, else an update. */
  #patchRun(patch: RunPatch): Mutation[] {
    const creation = this.#creation;
    if (creation !== undefined && !creation.taken) {
      Object.assign(creation.mutation.run, patch);
      return [];
    }
    return [{ op: 'updateRun', id: this.id, patch }];
  }

  // ---- recorded values (ctx.now / random / uuid) -----------------------------------------------

  /** Returns the journaled value of the next step, or produces, records and returns a new one. */
  recordValue<T>(kind: 'now' | 'random' | 'uuid', produce: () => T): T {
    const seq = this.#nextSeq++;
    const entry = this.#journal[seq];
    if (entry !== undefined) {
      verifyStep(this.run.type, seq, entry, kind, '');
      return this.#host.codec.decode(entry.value!) as T;
    }
    const value = produce();
    const recorded: JournalEntry = this.#valueEntry(seq, kind, '', { ok: true, value });
    this.#journal[seq] = recorded;
    this.#pending.push({ op: 'appendJournal', entry: recorded });
    return value;
  }

  // ---- operations ----------------------------------------------------------------------------

  /** The outcome of a journaled leaf step, or undefined when the step must be performed. */
  #replayLeaf(command: Command): Outcome | undefined {
    if (isComposite(command)) return undefined;
    const entry = this.#journal[this.#nextSeq];
    if (entry === undefined) return undefined;
    const seq = this.#nextSeq++;
    verifyStep(this.run.type, seq, entry, command.kind, leafName(command));
    return outcomeOf(entry, this.#host.codec);
  }

  /** Performs a step live; the drive loop has already answered it from the journal if it could. */
  async #perform(command: Command): Promise<Outcome> {
    if (isComposite(command)) return performComposite(this.#compositeHost, command);
    const seq = this.#nextSeq++;
    const { promise, resolve, reject } = this.#awaitStep();
    const started = this.#startLeaf(seq, command, (entry, mutations, durable) => {
      const committed = this.#commitSettled([...mutations, { op: 'appendJournal', entry }], [entry], {
        resumes: true,
        durable,
      });
      committed.then(() => resolve(outcomeOf(entry, this.#host.codec)), reject);
      return committed;
    });
    if (started instanceof Promise) await started;
    const noted = this.#noteSuspended();
    if (noted !== undefined) await noted;
    this.#park();
    return promise;
  }

  // ---- updates and queries (see run-messages.ts) ----------------------------------------------

  /** Set while the drive loop waits on a live step: the only time an update may be applied. */
  #parked = false;
  #messagesCache: RunMessages | undefined;
  get #messages(): RunMessages {
    return (this.#messagesCache ??= new RunMessages(this.#messagesHost()));
  }

  #messagesHost(): MessagesHost {
    return {
      id: this.id,
      workflowType: this.run.type,
      codec: this.#host.codec,
      now: () => this.#host.clock.now(),
      journalAt: (seq) => this.#journal[seq],
      takeSeq: () => this.#nextSeq++,
      peekSeq: () => this.#nextSeq,
      isParked: () => this.#parked && !this.#stopped,
      commitUpdate: async (entry, writes) => {
        if (this.#stopped) throw new WorkflowNotRunningError(this.id, this.run.status);
        this.#journal[entry.seq] = entry;
        await this.#commit([...this.#takePending(), ...writes]);
      },
      updateEvent: (name, updateId, ok) =>
        this.#host.event('update:completed', this.id, { update: name, updateId, ok }),
    };
  }

  #replayUpdates(): void {
    if (this.#messagesCache !== undefined || this.#journal[this.#nextSeq]?.kind === 'update') {
      this.#messages.replayJournaled();
    }
  }

  /** The drive loop is about to wait on a live step: journaled updates at this point, then queued ones. */
  #park(): void {
    this.#replayUpdates();
    this.#parked = true;
    this.#messagesCache?.drain();
  }

  onUpdate(name: unknown, handler: unknown): void {
    this.#messages.onUpdate(name, handler);
  }

  onQuery(name: unknown, handler: unknown): void {
    this.#messages.onQuery(name, handler);
  }

  /** Applies an update at the run's next park point; resolves with its record once committed. */
  submitUpdate(request: UpdateRequest): Promise<UpdateRecord> {
    if (this.#stopped) return Promise.reject(new WorkflowNotRunningError(this.id, this.run.status));
    return this.#messages.submitUpdate(request);
  }

  /** Answers a query at the run's next park point. */
  query(name: string, args: unknown): Promise<unknown> {
    if (this.#stopped) return Promise.reject(new WorkflowNotRunningError(this.id, this.run.status));
    return this.#messages.query(name, args);
  }

  // ---- search attributes, token stream, children ---------------------------------------------

  /**
   * `ctx.setAttribute`: a journaled step (no value), so a replay neither writes it again — which
   * would undo a later `engine.setAttributes` — nor skips a write the last incarnation never committed.
   */
  setAttribute(name: string, value: AttributeValue): void {
    checkAttribute(name, value, false);
    const seq = this.#nextSeq;
    const recorded = this.#journal[seq];
    if (recorded !== undefined) {
      this.#nextSeq++;
      verifyStep(this.run.type, seq, recorded, 'attribute', name);
      return;
    }
    this.#nextSeq++;
    const entry = this.#valueEntry(seq, 'attribute', name, { ok: true, value: undefined });
    this.#journal[seq] = entry;
    this.#pending.push(
      { op: 'appendJournal', entry },
      { op: 'setAttributes', runId: this.id, attributes: { [name]: value } },
    );
  }

  /** `ctx.stream.write`: a journaled step, so a replay does not write the chunk again. */
  writeStream(chunk: unknown): void {
    const seq = this.#nextSeq;
    const recorded = this.#journal[seq];
    if (recorded !== undefined) {
      this.#nextSeq++;
      verifyStep(this.run.type, seq, recorded, 'stream', '');
      return;
    }
    if (this.#stopped) throw new StreamClosedError(this.id);
    const data = this.#host.codec.encode(chunk, 'stream chunk');
    this.#nextSeq++;
    const entry = this.#valueEntry(seq, 'stream', '', { ok: true, value: undefined });
    this.#journal[seq] = entry;
    const at = this.#host.clock.now();
    this.#pending.push(
      { op: 'appendJournal', entry },
      { op: 'appendChunk', chunk: { runId: this.id, seq: ++this.#chunkSeq, data, at } },
    );
    this.#scheduleFlush();
  }

  /** `actx.stream.write`: committed on its own (activities run at least once; no journal entry). */
  writeActivityChunk(chunk: unknown): Promise<void> {
    if (this.#stopped) return Promise.reject(new StreamClosedError(this.id));
    let data: Uint8Array;
    try {
      data = this.#host.codec.encode(chunk, 'stream chunk');
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const at = this.#host.clock.now();
    return this.#commit([{ op: 'appendChunk', chunk: { runId: this.id, seq: ++this.#chunkSeq, data, at } }]);
  }

  #flushScheduled = false;
  #activityStream: { write(chunk: unknown): Promise<void> } | undefined;

  /** Commits pending writes soon (once per burst of writes), so stream readers need not wait for the next step. */
  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      if (this.#stopped || this.#pending.length === 0) return;
      this.#commit(this.#takePending()).catch((error: unknown) => this.#host.fault(this, error));
    });
  }

  /** Whether this run started children (so its end must end theirs). */
  startedChildren = false;

  /** `ctx.startChild`: a journaled step whose entry commits with the child's creation. */
  startChild(type: string, input: unknown, options: StartChildOptions | undefined): { id: string } {
    const seq = this.#nextSeq;
    const recorded = this.#journal[seq];
    if (recorded !== undefined) {
      this.#nextSeq++;
      verifyStep(this.run.type, seq, recorded, 'child', type);
      this.startedChildren = true;
      return this.#host.codec.decode(recorded.value!) as { id: string };
    }
    if (this.#stopped) throw STOP;
    const id = options?.id ?? `${this.id}-${seq}`;
    const prepared = this.#host.prepareChild(this, type, input, id);
    this.#nextSeq++;
    const entry = this.#valueEntry(seq, 'child', type, { ok: true, value: { id } });
    this.#journal[seq] = entry;
    this.startedChildren = true;
    // This run's own pending writes (its creation, say) go first, in their own commit: commits
    // apply in call order, so the child never exists before its parent does.
    if (this.#pending.length > 0) {
      this.#commit(this.#takePending()).catch((error: unknown) => {
        if (!(error instanceof Stop)) this.#host.fault(this, error);
      });
    }
    // The parent's entry rides the child's creating commit: both exist, or neither.
    prepared.create([{ op: 'appendJournal', entry }]);
    return { id };
  }

  /** A message for `name` may be in the inbox now (a child's outcome): hand it to a waiting step. */
  inboxChanged(name: string): void {
    this.#signals.inboxMayHoldMessages = true;
    if (this.#stopped) return;
    // Under the lock: a wait that is reading the inbox right now registers before this looks.
    void this.#signals
      .withLock(async () => {
        const wait = this.#stopped ? undefined : this.#signals.oldest(name);
        if (wait !== undefined) await this.#takeFromInbox(wait.seq, name, wait.deliver);
      })
      .catch((error: unknown) => this.#host.fault(this, error));
  }

  /** The narrow view of this executor that ctx.all / ctx.race work through (built on first use). */
  get #compositeHost(): CompositeHost {
    return (this.#compositeHostCache ??= {
      workflowType: this.run.type,
      codec: this.#host.codec,
      nextSeq: () => this.#nextSeq++,
      journalAt: (seq) => this.#journal[seq],
      awaitStep: () => this.#awaitStep(),
      startLeaf: (seq, command, settle) => this.#startLeaf(seq, command, settle),
      setComposing: (composing) => void (this.#composing = composing),
      forgetStep: (seq) => void this.#live.delete(seq),
      valueEntry: (seq, kind, name, outcome) => this.#valueEntry(seq, kind, name, outcome),
      commitSettled: (mutations, entries, options) => this.#commitSettled(mutations, entries, options),
      noteSuspended: () => this.#noteSuspended(),
    });
  }

  #compositeHostCache: CompositeHost | undefined;

  /** The promise the drive loop waits on for the current step; `#abortRun` rejects it. */
  #awaitStep(): PromiseWithResolvers<Outcome> {
    const awaited = Promise.withResolvers<Outcome>();
    // Settled even when starting the step throws (and nobody awaits it): never an unhandled rejection.
    awaited.promise.catch(() => undefined);
    this.#awaited = awaited;
    return awaited;
  }

  /** Starts one live leaf step; `settle` is called once with its journal entry. */
  #startLeaf(seq: number, command: LeafCommand, settle: SettleFn): LiveStep | Promise<LiveStep | undefined> {
    if (this.#stopped || this.#host.isClosing()) throw STOP;
    switch (command.kind) {
      case 'activity':
        return this.#startActivity(seq, command, settle);
      case 'sleep':
        return this.#startSleep(seq, command.ms, settle);
      case 'signal':
        return this.#startSignalWait(seq, command.name, command.timeoutMs, settle);
    }
  }

  async #startActivity(seq: number, command: LeafCommand & { kind: 'activity' }, settle: SettleFn): Promise<LiveStep> {
    try {
      // Checked here, not at ctx.run, so replaying journaled steps never pays for encoding inputs.
      this.#host.codec.encode(command.input, `input of activity '${command.name}'`);
    } catch (error) {
      const refused: LiveStep = { seq, command, settled: true, abandon: () => [] };
      void settle(this.#encodedEntry(seq, 'activity', command.name, { ok: false, error }), [], false);
      return refused;
    }
    const definition = command.definition;
    // A single step can only be stopped with its run, so it shares the run's signal. A child of
    // ctx.all/race can be abandoned alone: it gets its own signal, which follows the run's.
    const runSignal = this.signal;
    const own = this.#composing ? new AbortController() : undefined;
    const onRunAbort = own === undefined ? undefined : (): void => own.abort(runSignal.reason);
    if (onRunAbort !== undefined) runSignal.addEventListener('abort', onRunAbort, { once: true });
    const step: LiveStep = {
      seq,
      command,
      settled: false,
      abandon: () => {
        own?.abort(new Error('step abandoned'));
        return [];
      },
    };
    this.#live.set(seq, step);
    // Recorded values the activity may have been given must be durable before its side effects.
    if (this.#pending.length > 0) await this.#commit(this.#takePending());
    if (this.#stopped) throw STOP;
    this.#activitiesInFlight++;
    // Published with the run's next commit (its result at the latest): no write of its own.
    this.#pending.push(this.#host.event('activity:started', this.id, { activity: command.name, seq }));
    runActivity({
      name: command.name,
      execute: definition.execute,
      input: command.input,
      retry: command.retry,
      timeoutMs: command.timeoutMs,
      signal: own?.signal ?? runSignal,
      stopWaitingOnAbort: own !== undefined,
      workflowId: this.id,
      workflowType: this.run.type,
      idempotencyKey: `${this.id}:${seq}`,
      clock: this.#host.clock,
      stream: (this.#activityStream ??= { write: (chunk) => this.writeActivityChunk(chunk) }),
    })
      .then((result) => {
        this.#activitiesInFlight--;
        if (this.#activitiesInFlight === 0) {
          this.#idle?.resolve();
          this.#idle = undefined;
        }
        if (onRunAbort !== undefined) runSignal.removeEventListener('abort', onRunAbort);
        if (result.status === 'aborted' || step.settled || this.#stopped) return;
        let outcome: Outcome;
        if (result.status === 'completed') {
          try {
            const bytes = this.#host.codec.encode(result.value, `result of activity '${command.name}'`);
            outcome = { ok: true, value: bytes };
          } catch (error) {
            outcome = {
              ok: false,
              error: new ActivityFailedError(command.name, result.attempts, serializeError(error)),
            };
          }
        } else {
          outcome = { ok: false, error: result.error };
        }
        const event = this.#host.event(outcome.ok ? 'activity:completed' : 'activity:failed', this.id, {
          activity: command.name,
          seq,
          attempts: result.attempts,
        });
        step.settled = true;
        this.#live.delete(seq);
        return settle(this.#encodedEntry(seq, 'activity', command.name, outcome), [event], false);
      })
      .catch((error: unknown) => this.#host.fault(this, error));
    return step;
  }

  async #startSleep(seq: number, ms: number, settle: SettleFn): Promise<LiveStep> {
    const key = stepTimerKey(seq);
    const step = this.#openTimedStep(seq, { kind: 'sleep', ms }, key);
    const fire = (): Promise<void> | undefined => {
      if (step.settled) return undefined;
      step.settled = true;
      this.#live.delete(seq);
      this.#releaseTimer(key);
      const fired = this.#valueEntry(seq, 'sleep', '', { ok: true, value: undefined });
      return settle(fired, [{ op: 'deleteTimer', runId: this.id, key }], false);
    };
    this.#timerSteps.set(key, fire);
    await this.#ensureTimer(key, this.#host.clock.now() + ms);
    return step;
  }

  /** Synchronous when nothing needs reading or writing first (the common wait of a new run). */
  #startSignalWait(
    seq: number,
    name: string,
    timeoutMs: number | undefined,
    settle: SettleFn,
  ): LiveStep | Promise<LiveStep> {
    const key = stepTimerKey(seq);
    const step = this.#openTimedStep(seq, { kind: 'signal', name, timeoutMs }, key);
    const removeWait = (): void => this.#signals.remove(name, seq);
    const baseAbandon = step.abandon;
    step.abandon = () => {
      removeWait();
      return baseAbandon();
    };
    const deliver: Delivery = (entry, mutations, durable) => {
      if (step.settled) return undefined;
      step.settled = true;
      this.#live.delete(seq);
      removeWait();
      const writes = [...mutations];
      if (timeoutMs !== undefined) {
        this.#releaseTimer(key);
        writes.push({ op: 'deleteTimer', runId: this.id, key });
      }
      return settle(entry, writes, durable);
    };
    if (timeoutMs !== undefined) {
      this.#timerSteps.set(key, () =>
        deliver(this.#valueEntry(seq, 'signal', name, { ok: true, value: undefined }), [], false),
      );
    }
    const register = (): void => this.#signals.add(name, seq, deliver);
    if (!this.#signals.inboxMayHoldMessages && timeoutMs === undefined) {
      // Nothing was ever enqueued for this run: no inbox read, no lock. A delivery queued behind the
      // lock finds this waiter when it runs, because registering is synchronous.
      register();
      return step;
    }
    return (async () => {
      if (!this.#signals.inboxMayHoldMessages) register();
      else {
        await this.#signals.withLock(async () => {
          if (!(await this.#takeFromInbox(seq, name, deliver)) && !step.settled) register();
        });
      }
      // Whoever started the step (single or composite) notes the suspension once all have started.
      if (!step.settled && timeoutMs !== undefined) await this.#ensureTimer(key, this.#host.clock.now() + timeoutMs);
      return step;
    })();
  }

  /** Hands the oldest inbox message for `name` to the step; false when there is none. Runs under the signal lock. */
  async #takeFromInbox(seq: number, name: string, deliver: Delivery): Promise<boolean> {
    const message = await this.#host.storage.peekSignal(this.id, name);
    if (message === undefined) return false;
    const entry = isChildInbox(name)
      ? childOutcomeEntry(this.id, seq, name, message.payload, this.#host.codec, this.#host.clock.now())
      : this.#encodedEntry(seq, 'signal', name, { ok: true, value: message.payload });
    await deliver(entry, [{ op: 'consumeSignal', id: message.id }], true);
    return true;
  }

  /**
   * Delivers a signal: to the oldest waiting step for its name if there is one, else into the
   * durable inbox. Resolves once it is committed either way.
   */
  deliverSignal(name: string, payload: Uint8Array, received: Mutation): Promise<void> {
    return this.#signals.withLock(async () => {
      const wait = this.#stopped ? undefined : this.#signals.oldest(name);
      // Handed straight to a waiting step, the signal is committed before its sender hears back.
      const delivered = wait?.deliver(
        this.#encodedEntry(wait.seq, 'signal', name, { ok: true, value: payload }),
        [received],
        true,
      );
      if (delivered !== undefined) return delivered;
      this.#signals.inboxMayHoldMessages = true;
      await this.#commit([
        ...this.#takePending(),
        { op: 'enqueueSignal', message: { runId: this.id, name, payload, createdAt: this.#host.clock.now() } },
        received,
      ]);
    });
  }

  #commitsInFlight = 0;

  // ---- timers --------------------------------------------------------------------------------

  /** Fire handlers of live timer steps, by timer key. */
  readonly #timerSteps = new Map<string, () => Promise<void> | undefined>();

  #openTimedStep(seq: number, command: LeafCommand, key: string): LiveStep {
    const step: LiveStep = {
      seq,
      command,
      settled: false,
      abandon: () => {
        this.#timerSteps.delete(key);
        if (!this.#timerKeys.has(key)) return [];
        this.#releaseTimer(key);
        return [{ op: 'deleteTimer', runId: this.id, key }];
      },
    };
    this.#live.set(seq, step);
    return step;
  }

  /** Creates the step's timer row, or keeps the one a previous process created (original fire time). */
  async #ensureTimer(key: string, fireAt: number): Promise<void> {
    if (this.#stopped) throw STOP;
    const existing = this.#host.timers.get(this.id, key);
    if (existing !== undefined) {
      if (existing.fireAt <= this.#host.clock.now()) this.onTimer(key);
      return;
    }
    this.#timerKeys.add(key);
    const suspends = !this.#composing && this.#activitiesInFlight === 0 && this.#blockedOnlyOnWaits();
    const status = suspends ? this.#statusMutation(RunStatus.suspended) : [];
    const mutations = this.#takePending();
    mutations.push({ op: 'putTimer', timer: { runId: this.id, key, fireAt } }, ...status);
    await this.#commit(mutations);
    this.#host.timers.schedule(this.id, key, fireAt);
  }

  #releaseTimer(key: string): void {
    this.#timerSteps.delete(key);
    this.#timerKeys.delete(key);
    this.#host.timers.cancel(this.id, key);
  }

  /** Called by the engine when a timer of this run is due. */
  onTimer(key: string): void {
    if (this.#stopped) return;
    if (key === DEADLINE_TIMER) {
      this.terminate('timed_out').catch((error: unknown) => this.#host.fault(this, error));
      return;
    }
    // A timer of a step the replay has not reached yet: the step fires it when it opens.
    void this.#timerSteps.get(key)?.();
  }

  // ---- status --------------------------------------------------------------------------------

  #blockedOnlyOnWaits(): boolean {
    for (const step of this.#live.values()) if (step.command.kind === 'activity') return false;
    return true;
  }

  #statusMutation(status: RunStatus): Mutation[] {
    if (this.run.status === status) return [];
    if (this.run.status === RunStatus.suspended) this.#host.resumed(this);
    this.run.status = status;
    const event = status === RunStatus.suspended ? 'workflow:suspended' : 'workflow:resumed';
    return [...this.#patchRun({ status, updatedAt: this.#host.clock.now() }), ...this.#stateChange(event, status)];
  }

  /** Last watch frame and stream chunk seqs of this run (frames and chunks count from 1 per run). */
  #watchSeq: number;
  #chunkSeq: number;

  /** The fleet event and the watch frame of one state change, to commit with it. */
  #stateChange(type: EngineEventType, status: RunStatus, detail?: Record<string, unknown>): Mutation[] {
    const event = this.#host.event(type, this.id, detail);
    const { at, data } = event.event;
    return [event, { op: 'appendWatch', frame: { runId: this.id, seq: ++this.#watchSeq, type, status, at, data } }];
  }

  /**
   * Marks the run suspended when it only waits now, committing that (with any pending writes),
   * then offers it for eviction. Synchronous when there is nothing to commit.
   */
  #noteSuspended(): Promise<void> | undefined {
    if (this.#composing || this.#activitiesInFlight > 0 || this.#live.size === 0) return undefined;
    if (!this.#blockedOnlyOnWaits() || this.#stopped) return undefined;
    const status = this.#statusMutation(RunStatus.suspended);
    const mutations = this.#takePending();
    mutations.push(...status);
    if (mutations.length === 0) return void this.#offerForEviction();
    return this.#commit(mutations).then(() => this.#offerForEviction());
  }

  #offerForEviction(): void {
    if (this.run.status === RunStatus.suspended && !this.#stopped) this.#host.suspended(this);
  }

  /**
   * Drops this executor if the run is only waiting and everything about it is committed: the
   * journal, the timer rows and the inbox hold all it needs to be rebuilt by replay on the next
   * timer or signal. Returns whether it was evicted.
   */
  tryEvict(): boolean {
    if (this.#stopped || this.#activitiesInFlight > 0 || this.#pending.length > 0 || this.#commitsInFlight > 0) {
      return false;
    }
    if (this.#composing || this.#signals.busy || this.#live.size === 0) return false;
    if (this.#messagesCache?.hasQueued === true) return false;
    if (!this.#blockedOnlyOnWaits()) return false;
    if (this.#creation !== undefined && !this.#creation.committed) return false;
    for (const step of this.#live.values()) if (step.settled) return false;
    // Nothing is unwound: once the engine drops it, the executor — its generator, its drive loop
    // parked on a step that will never settle — is unreachable and collected as a whole.
    // `#stopped` makes any callback that still arrives a no-op.
    this.#stopped = true;
    return true;
  }

  /** Commits a settled step's writes (marking the run running again) and records its entries. */
  async #commitSettled(mutations: Mutation[], entries: JournalEntry[], options: SettleOptions): Promise<void> {
    if (this.#stopped) throw STOP;
    const stillBlocked = !options.resumes && this.#activitiesInFlight === 0 && this.#blockedOnlyOnWaits();
    const status = stillBlocked ? RunStatus.suspended : RunStatus.running;
    const statusChange = this.#statusMutation(status);
    if (!options.durable) {
      // Nothing outside the run has seen this outcome: it rides with the run's next commit, which
      // always comes before the next side effect, wait or completion. A crash before then only
      // repeats what produced it (an activity, a due timer, an inbox read).
      this.#pending.push(...mutations, ...statusChange);
      for (const entry of entries) this.#journal[entry.seq] = entry;
      return;
    }
    // Someone outside the run relies on this outcome already (see SettleFn): durable first.
    const writes = [...this.#takePending(), ...mutations, ...statusChange];
    await this.#commit(writes);
    for (const entry of entries) this.#journal[entry.seq] = entry;
  }

  #encodedEntry(seq: number, kind: string, name: string, outcome: Outcome): JournalEntry {
    return encodedEntry(this.id, seq, kind, name, outcome, this.#host.clock.now());
  }

  #valueEntry(seq: number, kind: string, name: string, outcome: Outcome): JournalEntry {
    return valueEntry(this.id, seq, kind, name, outcome, this.#host.codec, this.#host.clock.now());
  }
}
