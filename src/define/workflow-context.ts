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

export interface RunActivityOptions {
  /** Overrides the activity's retry policy for this call. */
  retry?: RetryPolicy;
  /** Overrides the activity's per-attempt timeout for this call. */
  timeout?: Duration;
}

export interface WaitForSignalOptions {
  /** Give up after this long; the wait then returns `undefined`. */
  timeout?: Duration;
}

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
