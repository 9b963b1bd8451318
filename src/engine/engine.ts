/**
 * The Engine: registers workflow definitions, starts and recovers runs, routes signals,
 * timers and cancellation to the run executors, and dispatches events.
 *
 * Every method that reports success does so after storage committed the change. The engine
 * keeps the executors of unfinished runs in memory; storage is the source of truth, so a new
 * engine over the same storage picks every run up again through `recoverAll()`.
 */
import { systemClock, type Clock } from '../core/clock.ts';
import { createCodec, DEFAULT_MAX_PAYLOAD_BYTES, type Codec } from '../core/codec.ts';
import { parseDuration } from '../core/duration.ts';
import {
  EngineClosedError,
  serializeError,
  InvalidArgumentError,
  TaskQueueUnavailableError,
  UnregisteredWorkflowTypesError,
  WorkflowAlreadyExistsError,
  WorkflowAlreadyRegisteredError,
  WorkflowCancelledError,
  WorkflowNotFoundError,
  WorkflowNotRunningError,
  WorkflowTypeNotRegisteredError,
} from '../core/errors.ts';
import { systemRandom, type RandomSource } from '../core/random.ts';
import { signalName, type SignalRef } from '../define/signal.ts';
import { updateName, type UpdateDefinition, type UpdateRef } from '../define/update.ts';
import type { AnyWorkflowDefinition, WorkflowInput, WorkflowOutput } from '../define/workflow.ts';
import {
  isFinished,
  RunStatus,
  StorageConflictError,
  UNFINISHED_STATUSES,
  type AttributeValue,
  type Mutation,
  type RunGroupBy,
  type RunRecord,
  type Storage,
} from '../storage/storage.ts';
import { EngineEvent, type EngineEventType } from './engine-events.ts';
import { EventLog, type EngineEventRecord, type Published } from './event-log.ts';
import {
  LiveLogs,
  type FollowLogOptions,
  type ReadLogOptions,
  type StreamChunkRecord,
  type StreamPage,
  type WatchRecord,
} from './live-logs.ts';
import { UpdateBroker, type UpdateOptions, type UpdateOutcome, type UpdateState } from './update-broker.ts';
import { ChildRuns, RESERVED_SIGNAL_PREFIX, type CreateRunOptions } from './child-runs.ts';
import { DEADLINE_TIMER, type ExecutorHost } from './executor-host.ts';
import { stateChangeWrites } from './run-transitions.ts';
import { RunExecutor } from './run-executor.ts';
import { SuspensionQueue } from './suspension-queue.ts';
import { TimerService } from './timer-service.ts';
import {
  checkKey,
  DEFAULT_EVENT_RETENTION,
  MIN_EVENT_RETENTION,
  type EngineCreateOptions,
  type EngineOptions,
  type StartOptions,
  type WorkflowHandle,
  type WorkflowState,
} from './engine-options.ts';
import { runOutcome, toWorkflowState } from './run-state.ts';
import { MessageSchemas, validateAgainst } from './schema-validation.ts';
import {
  describeActivities,
  describeWorkflow,
  type ActivityDefinitionInfo,
  type WorkflowDefinitionInfo,
} from './workflow-definitions.ts';
import {
  checkAttributes,
  checkGroupBy,
  listWorkflows,
  MAX_AGGREGATE_GROUPS,
  toRunQuery,
  type ListOptions,
  type WorkflowAggregate,
  type WorkflowFilter,
  type WorkflowList,
} from './run-listing.ts';

export type { ActivityDefinitionInfo, MessageDefinitionInfo, WorkflowDefinitionInfo } from './workflow-definitions.ts';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * A generated run id: a UUIDv7 (RFC 9562) — the engine clock's milliseconds, then the 74 random
 * bits of the random source's v4 UUID. Time-ordered ids make every b-tree keyed by run id (the runs
 * table, the journal, watch frames, the events' run column) grow at its end, so a group of new runs
 * dirties a few pages instead of one random page per run per table: with v4 ids the WAL and its
 * checkpoints carried most of a start's cost (docs/performance.md, issue 17). A random source whose
 * `uuid()` is not a v4 UUID (a test's own) keeps its ids.
 */
function timeOrderedId(ms: number, v4: string): string {
  if (!UUID_V4.test(v4)) return v4;
  const t = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0').slice(-12);
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${v4.slice(15, 18)}-${v4.slice(19, 23)}-${v4.slice(24)}`;
}

/**
 * A durable workflow engine over one storage.
 *
 * @example
 * await using engine = await Engine.create({ storage: new MemoryStorage(), workflows: { order } });
 * const handle = await engine.start('order', { amount: 10 });
 * console.log(await handle.result());
 */
export class Engine extends EventTarget implements AsyncDisposable {
  readonly #storage: Storage;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #codec: Codec;
  readonly #graceMs: number;
  readonly #timers: TimerService;
  readonly #definitions = new Map<string, AnyWorkflowDefinition>();
  readonly #messageSchemas = new MessageSchemas();
  readonly #executors = new Map<string, RunExecutor>();
  readonly #waiters = new Map<string, PromiseWithResolvers<RunRecord>[]>();
  readonly #startsByKey = new Map<string, Promise<string>>();
  #inflightCommits = 0;
  #commitsDrained: PromiseWithResolvers<void> | undefined;
  readonly #commitSettled = (): void => {
    if (--this.#inflightCommits === 0) this.#commitsDrained?.resolve();
  };
  readonly #host: ExecutorHost;
  readonly #log: EventLog;
  readonly #updates: UpdateBroker;
  readonly #children: ChildRuns;
  readonly #live: LiveLogs;
  readonly #maxSuspended: number;
  /** Resident suspended runs, longest-suspended first: the eviction order. */
  readonly #suspendedResidents = new SuspensionQueue<RunExecutor>();
  /** Evicted runs being rebuilt, so two wake-ups of one run share one executor. */
  readonly #waking = new Map<string, Promise<RunExecutor | undefined>>();
  #closing = false;
  #closed: Promise<void> | undefined;

  constructor(options: EngineOptions) {
    super();
    if (options?.storage === undefined) throw new InvalidArgumentError('new Engine({ storage }) needs a storage');
    this.#storage = options.storage;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? systemRandom;
    this.#codec = createCodec(options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES);
    this.#graceMs = parseDuration(options.shutdownGracePeriod ?? '10s');
    this.#maxSuspended = options.maxSuspendedInMemory ?? 1000;
    if (!Number.isInteger(this.#maxSuspended) || this.#maxSuspended < 0) {
      throw new InvalidArgumentError('maxSuspendedInMemory must be an integer >= 0');
    }
    const retention = options.eventRetention ?? DEFAULT_EVENT_RETENTION;
    if (!Number.isInteger(retention) || retention < MIN_EVENT_RETENTION) {
      throw new InvalidArgumentError(`eventRetention must be an integer >= ${MIN_EVENT_RETENTION}`);
    }
    this.#live = new LiveLogs(this.#storage, this.#codec);
    this.#log = new EventLog({
      storage: this.#storage,
      codec: this.#codec,
      retention,
      publish: (published) => this.#publish(published),
    });
    this.#timers = new TimerService(this.#clock, (runId, key) => this.#onTimer(runId, key));
    this.#children = new ChildRuns({
      storage: this.#storage,
      codec: this.#codec,
      clock: this.#clock,
      definition: (type) => this.#definitions.get(type),
      create: (definition, id, input, inputValue, options) => this.#create(definition, id, input, inputValue, options),
      commit: (mutations) => this.#host.commit(mutations),
      cancel: (id) => this.cancel(id),
      notifyInbox: (id, name) => this.#notifyInbox(id, name),
      fault: (executor, error) => this.#host.fault(executor, error),
      reportError: (id, error) => this.#reportError(id, error),
      isClosing: () => this.#closing,
    });
    this.#updates = new UpdateBroker({
      storage: this.#storage,
      codec: this.#codec,
      clock: this.#clock,
      random: this.#random,
      executorOf: (id) => this.#executorOf(id),
    });
    this.#host = this.#createHost();
  }

  /** Creates an engine, registers `workflows` and (unless `recover: false`) resumes unfinished runs. */
  static async create(options: EngineCreateOptions): Promise<Engine> {
    const engine = new Engine(options);
    try {
      const workflows = options.workflows ?? [];
      for (const definition of Array.isArray(workflows) ? workflows : Object.values(workflows)) {
        engine.register(definition as AnyWorkflowDefinition);
      }
      if (options.recover ?? true) await engine.recoverAll();
    } catch (error) {
      await engine.close();
      throw error;
    }
    return engine;
  }

  /** Registers a workflow definition. Another definition under the same name is an error. */
  register(definition: AnyWorkflowDefinition): this {
    if (definition?.kind !== 'workflow') throw new InvalidArgumentError('register() needs a workflow() definition');
    checkKey(definition.name, 'workflow name');
    const existing = this.#definitions.get(definition.name);
    if (existing !== undefined && existing !== definition) throw new WorkflowAlreadyRegisteredError(definition.name);
    for (const [name, activity] of definition.activities) {
      if (activity.queue !== undefined) throw new TaskQueueUnavailableError(definition.name, name, activity.queue);
    }
    this.#definitions.set(definition.name, definition);
    this.#messageSchemas.register(definition);
    return this;
  }

  /**
   * The registered workflows, in registration order: name, version, description, activity names,
   * declared signals and updates, and the JSON Schema (draft 2020-12) of each declared schema.
   *
   * @example
   * for (const w of engine.listWorkflowDefinitions()) console.log(w.name, w.inputSchema ?? 'any input');
   */
  listWorkflowDefinitions(): WorkflowDefinitionInfo[] {
    return [...this.#definitions.values()].map(describeWorkflow);
  }

  /**
   * The activities of the registered workflows, one entry per name `ctx.run` calls: the workflows
   * declaring it, its task queue, per-attempt timeout and retry policy.
   *
   * @example
   * engine.listActivityDefinitions().filter((a) => a.queue !== null); // the remote ones
   */
  listActivityDefinitions(): ActivityDefinitionInfo[] {
    return describeActivities(this.#definitions.values());
  }

  /**
   * Takes over every unfinished run in storage and resumes it from its journal — all of them,
   * except that suspended runs beyond `maxSuspendedInMemory` (with nothing in their inbox) wait in
   * storage for their next timer or signal. Fails before taking any run when runs of unregistered
   * types exist, naming the types.
   */
  async recoverAll(): Promise<{ recovered: number }> {
    this.#assertOpen();
    await this.#log.load();
    const runs = await this.#storage.listRunsByStatus(UNFINISHED_STATUSES);
    const unknown = [...new Set(runs.filter((r) => !this.#definitions.has(r.type)).map((r) => r.type))];
    if (unknown.length > 0) {
      throw new UnregisteredWorkflowTypesError(unknown.sort(), runs.filter((r) => unknown.includes(r.type)).length);
    }
    // Every run resumes now — replayed, so a code change that breaks a journal shows at once —
    // except suspended runs past `maxSuspendedInMemory` whose inbox is empty: they only wait for a
    // timer or a signal, so they stay in storage until one wakes them (their timers are armed
    // below). A running run may have had an activity in flight; a suspended one with inbox messages
    // may have lost its wake-up with the previous process.
    const signalled = new Set(await this.#storage.listSignalledRunIds());
    const owned = new Set<string>();
    const resumed: RunExecutor[] = [];
    let suspendedResumed = 0;
    for (const run of runs) {
      if (this.#executors.has(run.id) || this.#waking.has(run.id)) continue;
      owned.add(run.id);
      if (run.status === RunStatus.suspended && !signalled.has(run.id)) {
        if (suspendedResumed >= this.#maxSuspended) continue;
        suspendedResumed++;
      }
      const [journal, tails] = await Promise.all([this.#storage.getJournal(run.id), this.#storage.runTails(run.id)]);
      const executor = new RunExecutor(
        this.#host,
        this.#definitions.get(run.type)!,
        run,
        journal,
        undefined,
        undefined,
        tails,
      );
      this.#executors.set(run.id, executor);
      resumed.push(executor);
    }
    for (const timer of await this.#storage.listTimers()) {
      if (!owned.has(timer.runId)) continue;
      this.#executors.get(timer.runId)?.adoptTimer(timer.key);
      this.#timers.schedule(timer.runId, timer.key, timer.fireAt);
    }
    for (const executor of resumed) executor.start();
    return { recovered: owned.size };
  }

  /** Starts a run of a registered workflow type; resolves once the run is durably created. */
  async start<W extends AnyWorkflowDefinition>(
    workflow: W,
    input: WorkflowInput<W>,
    options?: StartOptions,
  ): Promise<WorkflowHandle<WorkflowOutput<W>>>;
  async start<O = unknown>(type: string, input: unknown, options?: StartOptions): Promise<WorkflowHandle<O>>;
  async start(
    workflow: string | AnyWorkflowDefinition,
    input: unknown,
    options: StartOptions = {},
  ): Promise<WorkflowHandle> {
    this.#assertOpen();
    const type = typeof workflow === 'string' ? workflow : workflow?.name;
    if (typeof workflow === 'string') checkKey(workflow, 'workflow type');
    const definition = typeof type === 'string' ? this.#definitions.get(type) : undefined;
    if (definition === undefined) throw new WorkflowTypeNotRegisteredError([String(type)]);
    const id = options.id ?? timeOrderedId(this.#clock.now(), this.#random.uuid());
    checkKey(id, 'id');
    if (options.idempotencyKey !== undefined) checkKey(options.idempotencyKey, 'idempotencyKey');
    const timeoutMs = options.executionTimeout === undefined ? undefined : parseDuration(options.executionTimeout);
    if (definition.inputSchema !== undefined) {
      input = await validateAgainst(definition.inputSchema, input, `input of workflow '${definition.name}'`);
      this.#assertOpen();
    }
    const inputBytes = this.#codec.encode(input, 'workflow input');

    const key = options.idempotencyKey;
    if (key === undefined) return this.handle(await this.#create(definition, id, inputBytes, input, { timeoutMs }));
    // Starts with one key are serialized so two concurrent calls cannot both create a run.
    const previous = this.#startsByKey.get(key);
    const attempt = (previous ?? Promise.resolve(''))
      .catch(() => '')
      .then(async () => {
        const existing = await this.#storage.findRunByIdempotencyKey(key);
        if (existing !== undefined) return existing.id;
        try {
          return await this.#create(definition, id, inputBytes, input, { idempotencyKey: key, timeoutMs });
        } catch (error) {
          if (!(error instanceof StorageConflictError)) throw error;
          const winner = await this.#storage.findRunByIdempotencyKey(key);
          if (winner === undefined) throw error;
          return winner.id;
        }
      });
    this.#startsByKey.set(key, attempt);
    try {
      return this.handle(await attempt);
    } finally {
      if (this.#startsByKey.get(key) === attempt) this.#startsByKey.delete(key);
    }
  }

  #create(
    definition: AnyWorkflowDefinition,
    id: string,
    input: Uint8Array,
    inputValue: unknown,
    options: CreateRunOptions,
  ): Promise<string> {
    const timeoutMs = options.timeoutMs;
    if (this.#executors.has(id)) return Promise.reject(new WorkflowAlreadyExistsError(id));
    const now = this.#clock.now();
    const run: RunRecord = {
      id,
      type: definition.name,
      version: definition.version,
      status: RunStatus.running,
      input,
      result: null,
      error: null,
      failureCategory: null,
      idempotencyKey: options.idempotencyKey ?? null,
      createdAt: now,
      updatedAt: now,
      deadline: timeoutMs === undefined ? null : now + timeoutMs,
      parentId: options.parentId ?? null,
    };
    const creation: Mutation[] = [{ op: 'createRun', run: { ...run } }, ...(options.extra ?? [])];
    if (run.deadline !== null) {
      creation.push({ op: 'putTimer', timer: { runId: id, key: DEADLINE_TIMER, fireAt: run.deadline } });
    }
    const executor = new RunExecutor(this.#host, definition, run, [], creation, { value: inputValue });
    this.#executors.set(id, executor);
    if (run.deadline !== null) {
      executor.adoptTimer(DEADLINE_TIMER);
      this.#timers.schedule(id, DEADLINE_TIMER, run.deadline);
    }
    executor.start();
    return executor.created.then(
      () => id,
      (error: unknown) => {
        if (this.#executors.get(id) === executor) this.#executors.delete(id);
        this.#timers.cancel(id, DEADLINE_TIMER);
        throw error;
      },
    );
  }

  /** A handle to an existing run (not checked until used). */
  handle<O = unknown>(id: string): WorkflowHandle<O> {
    return { id, result: (options) => this.#result(id, options?.signal) as Promise<O> };
  }

  /** The run's current state, or `undefined` when no run has that id. */
  async get(id: string): Promise<WorkflowState | undefined> {
    checkKey(id, 'id');
    const record = await this.#storage.getRun(id);
    return record === undefined ? undefined : toWorkflowState(record, this.#codec);
  }

  /**
   * Sends a signal; resolves once it is durably in the run's inbox (or consumed by a waiting step).
   * A payload is checked, before anything is stored, against the schema of the signal of that name
   * that the run's workflow declares (`workflow({ signals })`), else the schema of the `signal()`
   * definition passed; a mismatch rejects with `invalid_input`.
   */
  async signal<T>(id: string, signal: SignalRef<T>, payload?: T): Promise<void> {
    this.#assertOpen();
    checkKey(id, 'id');
    const name = signalName(signal);
    checkKey(name, 'signal name');
    if (name.startsWith(RESERVED_SIGNAL_PREFIX)) {
      throw new InvalidArgumentError(`signal names starting with '${RESERVED_SIGNAL_PREFIX}' are reserved`);
    }
    let schema = this.#messageSchemas.of('signals', name, signal, () => this.#definitionOfRun(id));
    if (schema instanceof Promise) schema = await schema;
    let value: unknown = payload;
    if (schema !== undefined) {
      value = await validateAgainst(schema, payload, `payload of signal '${name}'`);
      this.#assertOpen();
    }
    const bytes = this.#codec.encode(value, `payload of signal '${name}'`);
    const executor = this.#executors.get(id);
    const received = this.#host.event('signal:received', id, { signal: name });
    if (executor !== undefined) await executor.deliverSignal(name, bytes, received);
    else {
      await this.#requireUnfinished(id);
      await this.#host.commit([
        { op: 'enqueueSignal', message: { runId: id, name, payload: bytes, createdAt: this.#clock.now() } },
        received,
      ]);
      this.#notifyInbox(id, name);
    }
    // A run evicted while the signal was queued takes it from its inbox on replay.
    if (!this.#executors.has(id)) this.#wakeInBackground(id);
  }

  /**
   * Cancels a run: status `cancelled`, running activities see their signal abort, timers and
   * waits are dropped, `result()` rejects with `WorkflowCancelledError`.
   */
  async cancel(id: string): Promise<void> {
    this.#assertOpen();
    checkKey(id, 'id');
    const executor = this.#executors.get(id);
    if (executor !== undefined) {
      await executor.terminate('cancelled');
      return this.#children.cascadeOf(id);
    }
    const run = await this.#requireUnfinished(id);
    const error = serializeError(new WorkflowCancelledError(id));
    const [{ watch }, timers] = await Promise.all([this.#storage.runTails(id), this.#storage.listRunTimers(id)]);
    await this.#host.commit([
      { op: 'updateRun', id, patch: { status: RunStatus.cancelled, error, updatedAt: this.#clock.now() } },
      { op: 'deleteRunTimers', runId: id },
      ...stateChangeWrites(this.#host, id, watch + 1, 'workflow:cancelled', RunStatus.cancelled, {
        workflowType: run.type,
      }),
      ...this.#children.endingWrites(run, { status: RunStatus.cancelled, result: null, error }),
    ]);
    // An evicted run's timers are still scheduled here (they would wake it): forget them now rather
    // than at their fire time, which may be days away.
    this.#timers.cancelRun(
      id,
      timers.map((timer) => timer.key),
    );
    this.#settleWaiters(id);
    // Not in memory, so whether it started children is not known here: ask storage.
    this.#children.afterEnd(run, true);
    await this.#children.cascadeOf(id);
  }

  /** Removes a run and everything stored about it, cancelling it first if it is unfinished. */
  async delete(id: string): Promise<void> {
    this.#assertOpen();
    checkKey(id, 'id');
    const executor = this.#executors.get(id);
    if (executor !== undefined) await executor.terminate('cancelled');
    else {
      const run = await this.#storage.getRun(id);
      if (run === undefined) throw new WorkflowNotFoundError(id);
      // An evicted run is cancelled like a resident one: its `result()` callers hear of it, its
      // scheduled timers are forgotten, its parent and children are told.
      if (!isFinished(run.status)) await this.cancel(id);
    }
    await this.#host.commit([{ op: 'deleteRun', id }]);
  }

  /**
   * Sends an update: the run's `ctx.onUpdate(name)` handler runs between two of its steps and its
   * return value comes back once the update is committed. With `timeout`, resolves `pending` if it
   * passes first (see `getUpdate`). Rejects with `update_failed` when the handler threw,
   * `update_not_handled` when the run has no such handler, `workflow_not_running` when it ended.
   * Takes the update by `update()` definition (typed payload and result) or by name. A payload is
   * checked, before the update is recorded, against the schema of the update of that name that the
   * run's workflow declares (`workflow({ updates })`), else the schema of the definition passed; a
   * mismatch rejects with `invalid_input`.
   */
  update<P, R>(
    id: string,
    update: UpdateDefinition<P, R>,
    payload: P,
    options?: UpdateOptions,
  ): Promise<UpdateOutcome<R>>;
  update<R = unknown>(id: string, name: string, payload?: unknown, options?: UpdateOptions): Promise<UpdateOutcome<R>>;
  update(id: string, update: UpdateRef, payload?: unknown, options?: UpdateOptions): Promise<UpdateOutcome> {
    this.#assertOpen();
    return this.#checkedUpdate(id, update, payload, options);
  }

  async #checkedUpdate(
    id: string,
    update: UpdateRef,
    payload: unknown,
    options: UpdateOptions | undefined,
  ): Promise<UpdateOutcome> {
    checkKey(id, 'id');
    const name = updateName(update);
    checkKey(name, 'update name');
    const schema = await this.#messageSchemas.of('updates', name, update, () => this.#definitionOfRun(id));
    let value = payload;
    if (schema !== undefined) {
      value = await validateAgainst(schema, payload, `payload of update '${name}'`);
      this.#assertOpen();
    }
    return this.#updates.update(id, name, value, options);
  }

  /** The definition of run `id`'s workflow: in memory when resident, else read from storage. */
  #definitionOfRun(id: string): AnyWorkflowDefinition | undefined | Promise<AnyWorkflowDefinition | undefined> {
    const resident = this.#executors.get(id);
    if (resident !== undefined) return resident.definition;
    return this.#storage.getRun(id).then((run) => (run === undefined ? undefined : this.#definitions.get(run.type)));
  }

  /** An update's state: `pending`, `completed` with its result, or `failed` with its error; undefined if unknown. */
  getUpdate(updateId: string): Promise<UpdateState | undefined> {
    return this.#updates.getUpdate(updateId);
  }

  /**
   * Asks a running run's `ctx.onQuery(name)` handler, between two of its steps (an evicted or
   * recovered run is rebuilt first). Rejects with `query_not_handled` or `workflow_not_running`.
   */
  async query<R = unknown>(id: string, name: string, args?: unknown): Promise<R> {
    this.#assertOpen();
    checkKey(id, 'id');
    checkKey(name, 'query name');
    const copy = this.#codec.decode(this.#codec.encode(args, `arguments of query '${name}'`));
    const executor = await this.#executorOf(id);
    if (executor === undefined) {
      const run = await this.#storage.getRun(id);
      if (run === undefined) throw new WorkflowNotFoundError(id);
      throw new WorkflowNotRunningError(id, run.status);
    }
    return (await executor.query(name, copy)) as R;
  }

  /** Fleet events with `seq > after` (default: the oldest retained), oldest first, at most `limit` (≤ 1000). */
  readEvents(options?: ReadLogOptions): Promise<EngineEventRecord[]> {
    return this.#live.readEvents(options);
  }

  /**
   * Every fleet event with `seq > after`, stored then live, without gaps or duplicates, until
   * `signal` aborts. A cursor past the tail is clamped to it.
   */
  subscribeEvents(options?: FollowLogOptions): AsyncIterable<EngineEventRecord> {
    return this.#live.subscribeEvents(options, this.#log.tail);
  }

  /** The run's state changes with `seq > after`. */
  async readWatch(id: string, options?: ReadLogOptions): Promise<WatchRecord[]> {
    checkKey(id, 'id');
    return this.#live.readWatch(id, options);
  }

  /** The run's state changes with `seq > after`, stored then live; ends after the run's terminal change. */
  async watch(id: string, options?: FollowLogOptions): Promise<AsyncIterable<WatchRecord>> {
    checkKey(id, 'id');
    return this.#live.watch(id, options);
  }

  /** The run's stream chunks with `seq > after`; `closed` once the run ended and nothing follows. */
  async readStream(id: string, options?: ReadLogOptions): Promise<StreamPage> {
    checkKey(id, 'id');
    return this.#live.readStream(id, options);
  }

  /** The run's stream chunks with `seq > after`, stored then live; ends when the run has ended. */
  async stream(id: string, options?: FollowLogOptions): Promise<AsyncIterable<StreamChunkRecord>> {
    checkKey(id, 'id');
    return this.#live.stream(id, options);
  }

  /**
   * Runs matching `filter`, newest first (`createdAt`, then id, descending), one page at a time:
   * by `offset`, or — at the cost of one page however deep — by passing the previous page's
   * `nextCursor` as `cursor`. `total` counts every match, exactly when `totalIsExact` (see
   * `WorkflowList`). `failureCategory` is projected only with `include: ['failureCategory']`.
   */
  async list(options?: ListOptions): Promise<WorkflowList> {
    return listWorkflows(this.#storage, options);
  }

  /**
   * Counts the runs matching `filter` by status, type, failure category or one attribute
   * (`'attribute:<name>'`), largest group first; at most `MAX_AGGREGATE_GROUPS` groups, the rest
   * reported as `truncated`. Runs without a value for the grouping count in `total` only.
   */
  async aggregate(groupBy: RunGroupBy, filter?: WorkflowFilter): Promise<WorkflowAggregate> {
    return this.#storage.aggregateRuns(checkGroupBy(groupBy), toRunQuery(filter), MAX_AGGREGATE_GROUPS);
  }

  /** The run's search attributes. */
  async getAttributes(id: string): Promise<Record<string, AttributeValue>> {
    checkKey(id, 'id');
    if ((await this.#storage.getRun(id)) === undefined) throw new WorkflowNotFoundError(id);
    return this.#storage.getAttributes(id);
  }

  /** Sets search attributes of a run (finished or not); `null` removes one. Resolves once committed. */
  async setAttributes(id: string, attributes: Readonly<Record<string, AttributeValue | null>>): Promise<void> {
    this.#assertOpen();
    checkKey(id, 'id');
    const checked = checkAttributes(attributes, 'attributes', true);
    if ((await this.#storage.getRun(id)) === undefined) throw new WorkflowNotFoundError(id);
    await this.#host.commit([{ op: 'setAttributes', runId: id, attributes: checked }]);
  }

  /**
   * Stops timers and new work, lets in-flight activities finish (up to `shutdownGracePeriod`),
   * then waits for every in-flight commit. Does not close the storage it was given.
   */
  close(): Promise<void> {
    this.#closed ??= this.#shutdown();
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #shutdown(): Promise<void> {
    this.#closing = true;
    this.#timers.stop();
    await Promise.allSettled([...this.#waking.values()]);
    const executors = [...this.#executors.values()];
    if (this.#graceMs > 0) {
      const grace = Promise.withResolvers<void>();
      const timer = this.#clock.setTimer(this.#graceMs, grace.resolve);
      await Promise.race([Promise.all(executors.map((e) => e.idle())), grace.promise]);
      timer.cancel();
    }
    await Promise.all(executors.map((executor) => executor.halt(new EngineClosedError())));
    await Promise.all(executors.map((e) => e.done));
    if (this.#inflightCommits > 0) {
      this.#commitsDrained = Promise.withResolvers<void>();
      await this.#commitsDrained.promise;
    }
    this.#executors.clear();
    for (const waiters of this.#waiters.values()) for (const w of waiters) w.reject(new EngineClosedError());
    this.#waiters.clear();
  }

  // ---- internals -----------------------------------------------------------------------------

  #createHost(): ExecutorHost {
    return {
      storage: this.#storage,
      codec: this.#codec,
      clock: this.#clock,
      random: this.#random,
      timers: this.#timers,
      isClosing: () => this.#closing,
      commit: (mutations) => {
        const committed = this.#log.commit(mutations);
        this.#inflightCommits++;
        committed.then(this.#commitSettled, this.#commitSettled);
        return committed;
      },
      event: (type, runId, detail) => this.#log.event(type, runId, this.#clock.now(), detail),
      ending: (executor, end) => this.#children.endingWrites(executor.run, end),
      prepareChild: (parent, type, input, id) => {
        this.#assertOpen();
        return this.#children.prepare(parent, type, input, id);
      },
      finished: (executor) => {
        this.#executors.delete(executor.id);
        this.#suspendedResidents.remove(executor);
        this.#settleWaiters(executor.id, executor.run);
        this.#children.afterEnd(executor.run, executor.startedChildren);
      },
      suspended: (executor) => {
        this.#suspendedResidents.add(executor);
        this.#evictOverflow();
      },
      resumed: (executor) => this.#suspendedResidents.remove(executor),
      fault: (executor, error) => {
        // A failure can reach here from the step and from the drive loop: report it once.
        if (this.#executors.get(executor.id) !== executor) return;
        this.#executors.delete(executor.id);
        this.#suspendedResidents.remove(executor);
        for (const waiter of this.#waiters.get(executor.id) ?? []) waiter.reject(error);
        this.#waiters.delete(executor.id);
        this.#reportError(executor.id, error);
      },
    };
  }

  /**
   * Evicts the longest-suspended residents once there are a tenth more than allowed, down to the
   * limit: one pass per many suspensions instead of one eviction per suspension.
   */
  #evictOverflow(): void {
    const limit = this.#maxSuspended;
    if (this.#closing || this.#suspendedResidents.size <= limit + Math.floor(limit / 10)) return;
    while (this.#suspendedResidents.size > limit) {
      const executor = this.#suspendedResidents.takeOldest();
      if (executor === undefined) return;
      if (executor.tryEvict() && this.#executors.get(executor.id) === executor) this.#executors.delete(executor.id);
    }
  }

  #onTimer(runId: string, key: string): void {
    const executor = this.#executors.get(runId);
    if (executor !== undefined) return executor.onTimer(key);
    this.#wake(runId).then(
      // A run that finished meanwhile (cancelled while evicted, say) has no use for the timer.
      (woken) => (woken === undefined ? this.#timers.cancel(runId, key) : woken.onTimer(key)),
      (error: unknown) => this.#reportError(runId, error),
    );
  }

  /** The run's executor, rebuilt from storage if it was evicted; undefined when gone or finished. */
  #executorOf(id: string): Promise<RunExecutor | undefined> {
    if (this.#closing) return Promise.reject(new EngineClosedError());
    return this.#wake(id);
  }

  /**
   * A message for `name` was committed to the run's inbox without going through its executor: the
   * executor that is resident now (it may have been rebuilt, and its wait may have read the inbox,
   * while the message was being committed) checks its inbox again; an evicted run is woken.
   */
  #notifyInbox(id: string, name: string): void {
    const executor = this.#executors.get(id);
    if (executor !== undefined) return executor.inboxChanged(name);
    if (this.#closing) return;
    this.#wake(id).then(
      (woken) => woken?.inboxChanged(name),
      (error: unknown) => this.#reportError(id, error),
    );
  }

  #wakeInBackground(id: string): void {
    this.#wake(id).catch((error: unknown) => this.#reportError(id, error));
  }

  /** Rebuilds the executor of an evicted run from storage; undefined when it has finished meanwhile. */
  #wake(id: string): Promise<RunExecutor | undefined> {
    const resident = this.#executors.get(id);
    if (resident !== undefined) return Promise.resolve(resident);
    let waking = this.#waking.get(id);
    if (waking !== undefined) return waking;
    waking = (async () => {
      const run = await this.#storage.getRun(id);
      if (run === undefined || isFinished(run.status) || this.#closing) return undefined;
      const definition = this.#definitions.get(run.type);
      if (definition === undefined) return undefined;
      const [journal, timers, tails] = await Promise.all([
        this.#storage.getJournal(id),
        this.#storage.listRunTimers(id),
        this.#storage.runTails(id),
      ]);
      if (this.#closing || this.#executors.has(id)) return this.#executors.get(id);
      const executor = new RunExecutor(this.#host, definition, run, journal, undefined, undefined, tails);
      for (const timer of timers) {
        executor.adoptTimer(timer.key);
        if (this.#timers.get(id, timer.key) === undefined) this.#timers.schedule(id, timer.key, timer.fireAt);
      }
      this.#executors.set(id, executor);
      executor.start();
      return executor;
    })().finally(() => this.#waking.delete(id));
    this.#waking.set(id, waking);
    return waking;
  }

  async #result(id: string, signal?: AbortSignal): Promise<unknown> {
    signal?.throwIfAborted();
    checkKey(id, 'id');
    let record: RunRecord | undefined = this.#executors.get(id)?.run;
    if (record === undefined) {
      record = await this.#storage.getRun(id);
      if (record === undefined) throw new WorkflowNotFoundError(id);
    }
    if (!isFinished(record.status)) {
      if (this.#closing) throw new EngineClosedError();
      const waiter = Promise.withResolvers<RunRecord>();
      let waiters = this.#waiters.get(id);
      if (waiters === undefined) this.#waiters.set(id, (waiters = []));
      waiters.push(waiter);
      // A caller that stops waiting takes its waiter along: polling a long run leaks nothing.
      const onAbort = (): void => {
        const list = this.#waiters.get(id);
        const index = list?.indexOf(waiter) ?? -1;
        if (index >= 0) list!.splice(index, 1);
        if (list?.length === 0) this.#waiters.delete(id);
        waiter.reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        record = await waiter.promise;
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    }
    return runOutcome(record, this.#codec);
  }

  #settleWaiters(id: string, record?: RunRecord): void {
    const waiters = this.#waiters.get(id);
    if (waiters === undefined) return;
    this.#waiters.delete(id);
    const settled = record ?? this.#storage.getRun(id);
    for (const waiter of waiters) {
      Promise.resolve(settled).then(
        (r) => (r === undefined ? waiter.reject(new WorkflowNotFoundError(id)) : waiter.resolve(r)),
        waiter.reject,
      );
    }
  }

  async #requireUnfinished(id: string): Promise<RunRecord> {
    const record = await this.#storage.getRun(id);
    if (record === undefined) throw new WorkflowNotFoundError(id);
    if (isFinished(record.status)) throw new WorkflowNotRunningError(id, record.status);
    return record;
  }

  override addEventListener(
    type: string,
    listener: Parameters<EventTarget['addEventListener']>[1],
    options?: Parameters<EventTarget['addEventListener']>[2],
  ): void {
    if (listener !== null) this.#listenerCounts.set(type, (this.#listenerCounts.get(type) ?? 0) + 1);
    super.addEventListener(type, listener, options);
  }

  /**
   * Listener counts by event type, so the hot path builds no event nobody listens to. Never
   * decremented: a removed listener only costs building events again, a wrong count would lose them.
   */
  readonly #listenerCounts = new Map<string, number>();

  /** Hands a committed batch to live readers and to `addEventListener` listeners. */
  #publish(published: Published): void {
    this.#live.publish(published);
    for (const { event, detail } of published.events) {
      if (!this.#listenerCounts.get(event.type)) continue;
      this.dispatchEvent(
        new EngineEvent(event.type as EngineEventType, {
          workflowId: event.runId ?? undefined,
          timestamp: event.at,
          sequence: event.seq,
          ...(detail === undefined ? {} : { data: detail }),
        }),
      );
    }
  }

  /** `engine:error` is not a durable event (storage is what failed): dispatched at once, with the last seq. */
  #reportError(workflowId: string, error: unknown): void {
    if (!this.#listenerCounts.get('engine:error')) return;
    const sequence = this.#log.tail ?? 0;
    this.dispatchEvent(
      new EngineEvent('engine:error', { workflowId, timestamp: this.#clock.now(), sequence, data: { error } }),
    );
  }

  #assertOpen(): void {
    if (this.#closing) throw new EngineClosedError();
  }
}
