/**
 * The `ctx` a workflow receives: the only door to durable operations. Everything that steers
 * control flow must come through here (or be derived from recorded results) so that recovery,
 * which re-runs the code against the journal, takes the same path.
 */
import type { Duration } from '../core/duration.ts';
import type { RetryPolicy } from '../core/retry-policy.ts';
import type { ActivityDefinition, ActivityInput, ActivityMap, ActivityOutput } from './activity.ts';
import type { Operation, OperationResults } from './operation.ts';
import type { SignalRef } from './signal.ts';
import type { UpdateRef } from './update.ts';

/**
 * Per-call overrides for `ctx.run`; the activity's own settings apply to whatever is left out.
 *
 * @example
 * const receipt = yield* ctx.run('charge', input.amount, { timeout: '5s', retry: { maxAttempts: 1 } });
 */
export interface RunActivityOptions {
  /** Overrides the activity's retry policy for this call. */
  retry?: RetryPolicy;
  /** Overrides the activity's per-attempt timeout for this call. */
  timeout?: Duration;
}

/**
 * Options of `ctx.waitForSignal`. With a `timeout` the wait may return `undefined`, and its type says so.
 *
 * @example
 * const decision = yield* ctx.waitForSignal(approval, { timeout: '7d' });
 * if (decision === undefined) return 'expired';
 */
export interface WaitForSignalOptions {
  /** Give up after this long; the wait then returns `undefined`. */
  timeout?: Duration;
}

/**
 * The `ctx` a workflow body receives. Use it for every step, and for time and randomness, so a
 * replay after a restart takes the same path; `A` types the activity names `ctx.run` accepts.
 *
 * @example
 * const nap = workflow({ name: 'nap' }).execute(async function* (ctx, ms: number) {
 *   yield* ctx.sleep(ms);
 *   return ctx.now(); // recorded: the same value on every replay
 * });
 */
export interface WorkflowContext<A extends ActivityMap = ActivityMap> {
  readonly workflowId: string;
  readonly workflowType: string;
  /** Aborts when the run is cancelled, times out or the engine closes. */
  readonly signal: AbortSignal;

  /** Runs an activity of this workflow (by name) or any `activity()` definition; retried per its policy. */
  run<K extends keyof A & string>(
    name: K,
    input: ActivityInput<A[K]>,
    options?: RunActivityOptions,
  ): Operation<ActivityOutput<A[K]>>;
  run<I, O>(activity: ActivityDefinition<I, O>, input: I, options?: RunActivityOptions): Operation<Awaited<O>>;

  /** A durable timer: survives restarts and fires at the original time. */
  sleep(duration: Duration): Operation<void>;

  /** Takes the oldest unconsumed signal of that name from the run's inbox, waiting for one if needed. */
  waitForSignal<T>(signal: SignalRef<T>): Operation<T>;
  waitForSignal<T>(signal: SignalRef<T>, options: WaitForSignalOptions): Operation<T | undefined>;

  /** Runs operations concurrently; fails with the first failure, like `Promise.all`. */
  all<const T extends readonly Operation<unknown>[]>(operations: T): Operation<OperationResults<T>>;
  /** Settles with the first operation to settle, like `Promise.race`; the others are abandoned. */
  race<const T extends readonly Operation<unknown>[]>(operations: T): Operation<OperationResults<T>[number]>;

  /** Current time in epoch ms, recorded: the same value on every replay. */
  now(): number;
  /** A float in [0, 1), recorded. */
  random(): number;
  /** A random UUID, recorded. */
  uuid(): string;

  /**
   * Sets a search attribute of this run (a string, finite number or boolean), for `engine.list`
   * filters and `engine.aggregate`. A journaled step, written with the run's next commit; a replay
   * does not write it again.
   */
  setAttribute(name: string, value: string | number | boolean): void;

  /**
   * Handles updates named `name`: `engine.update(id, name, payload)` runs `handler(payload)` between
   * two steps of this run and returns what it returns. The handler must be synchronous; it may
   * change workflow state (recovery re-applies accepted updates at the same point). A handler that
   * throws rejects that update, and the run goes on. Registering again replaces the handler. Takes
   * the update by `update()` definition (typed payload and result) or by name.
   */
  onUpdate<P = unknown, R = unknown>(update: UpdateRef<P, R>, handler: (payload: P) => R): void;

  /** Answers `engine.query(id, name, args)` with `handler(args)`: synchronous and read-only. */
  onQuery<A = unknown, R = unknown>(name: string, handler: (args: A) => R): void;

  /**
   * Starts a child run of a registered workflow type, durably (once, even across recovery). Its
   * id is `options.id`, else `<this run's id>-<step>`. The child ends when this run ends, if it is
   * still running then. `yield* child.result()` waits for its result; its failure, cancellation or
   * timeout is thrown there as `ChildWorkflowFailedError` (code `child_workflow_failed`).
   */
  startChild<O = unknown>(type: string, input?: unknown, options?: StartChildOptions): ChildWorkflowHandle<O>;

  /** This run's durable token stream: read with `engine.stream(id)`; closed when the run ends. */
  readonly stream: WorkflowStream;
}

/**
 * Options of `ctx.startChild`.
 *
 * @example
 * const child = ctx.startChild('ship', { sku }, { id: `ship-${ctx.workflowId}` });
 */
export interface StartChildOptions {
  id?: string;
}

/**
 * A child run started with `ctx.startChild`.
 *
 * @example
 * const child = ctx.startChild<string>('ship', { sku });
 * const tracking = yield* child.result();
 */
export interface ChildWorkflowHandle<O> {
  readonly id: string;
  /** Waits for the child to finish; throws `ChildWorkflowFailedError` unless it completed. */
  result(): Operation<O>;
}

/**
 * A run's token stream from workflow code.
 *
 * @example
 * ctx.stream.write('thinking…');
 */
export interface WorkflowStream {
  /**
   * Appends a chunk (any storable value). Committed promptly, exactly once across recovery; readers
   * see chunks in order with a per-run sequence number.
   */
  write(chunk: unknown): void;
}
