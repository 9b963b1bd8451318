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
}
