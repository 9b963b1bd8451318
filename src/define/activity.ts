/**
 * Activity definitions: the side-effecting functions a workflow calls through `ctx.run`.
 * Activities run at least once; `actx.idempotencyKey` is stable per run and step so they can
 * dedupe their own side effects.
 */
import type { Duration } from '../core/duration.ts';
import { parseDuration } from '../core/duration.ts';
import { InvalidArgumentError } from '../core/errors.ts';
import { resolveRetryPolicy, type ResolvedRetryPolicy, type RetryPolicy } from '../core/retry-policy.ts';

/**
 * What an activity receives besides its input.
 *
 * @example
 * activity({ name: 'mail', execute: (to: string, actx) => send(to, actx.idempotencyKey, actx.signal) });
 */
export interface ActivityContext {
  /** Aborts when the attempt times out or the run is cancelled, timed out or the engine closes. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Stable across attempts and recovery for this run and step: use it to dedupe side effects. */
  readonly idempotencyKey: string;
  readonly workflowId: string;
  readonly workflowType: string;
  readonly activityName: string;
  /**
   * The run's token stream. `write` resolves once the chunk is committed. Activities run at least
   * once, so a retried attempt writes its chunks again (readers see both attempts' chunks).
   */
  readonly stream: { write(chunk: unknown): Promise<void> };
}

/**
 * An activity's body: gets its input and an `ActivityContext`, returns (or resolves to) a result
 * the codec can store. It may run more than once (at-least-once); throwing fails the attempt.
 */
export type ActivityFunction<I = never, O = unknown> = (input: I, actx: ActivityContext) => O | Promise<O>;

/**
 * What `activity()` takes. Only `name` and `execute` are required.
 *
 * @example
 * activity({ name: 'ship', timeout: '30s', execute: async (sku: string) => ({ tracking: `trk-${sku}` }) });
 */
export interface ActivityOptions<I, O> {
  /** Names the activity in the journal, events and errors. */
  name: string;
  execute: ActivityFunction<I, O>;
  /** Default: 3 attempts, 1s apart then x2, at most 1m. */
  retry?: RetryPolicy;
  /** Per-attempt timeout; none by default. Past it the attempt fails with `activity_timeout`. */
  timeout?: Duration;
  /**
   * Task queue of remote workers that run this activity. Remote workers land later: for now
   * registering a workflow that declares it, or `ctx.run` of it, fails with `task_queue_unavailable`.
   */
  queue?: string;
}

/**
 * What `activity()` returns: a frozen value with its retry policy and timeout resolved. Declare it
 * in `.activities({...})` or pass it straight to `ctx.run`.
 */
export interface ActivityDefinition<I = never, O = unknown> {
  readonly kind: 'activity';
  readonly name: string;
  readonly execute: ActivityFunction<I, O>;
  readonly retry: ResolvedRetryPolicy;
  readonly timeoutMs: number | undefined;
  readonly queue: string | undefined;
}

/**
 * Defines an activity that can be shared by several workflows.
 *
 * @example
 * const charge = activity({
 *   name: 'charge',
 *   retry: { maxAttempts: 5, initialInterval: '1s', nonRetryable: ['card_declined'] },
 *   timeout: '30s',
 *   execute: async (input: { amount: number }, actx) => pay(input.amount, actx.idempotencyKey),
 * });
 */
export function activity<I, O>(options: ActivityOptions<I, O>): ActivityDefinition<I, O> {
  if (typeof options.name !== 'string' || options.name.length === 0) {
    throw new InvalidArgumentError('activity({ name }) needs a non-empty name');
  }
  if (typeof options.execute !== 'function') {
    throw new InvalidArgumentError(`activity '${options.name}' needs an execute function`);
  }
  return Object.freeze({
    kind: 'activity',
    name: options.name,
    execute: options.execute,
    retry: resolveRetryPolicy(options.retry),
    timeoutMs: options.timeout === undefined ? undefined : parseDuration(options.timeout),
    queue: options.queue,
  });
}

/** True for a value made by `activity()`. */
export function isActivityDefinition(value: unknown): value is ActivityDefinition<never, unknown> {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'activity';
}

/** What `.activities({...})` accepts per entry: a plain function or an `activity()` definition. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- input types vary per entry
export type ActivityEntry = ActivityFunction<any, unknown> | ActivityDefinition<any, unknown>;
/** A workflow's declared activities, keyed by the name `ctx.run` calls them with. */
export type ActivityMap = Record<string, ActivityEntry>;

/** The input type of an activity entry, function or definition. */
export type ActivityInput<E> =
  E extends ActivityDefinition<infer I, unknown>
    ? I
    : E extends (input: infer I, actx: ActivityContext) => unknown
      ? I
      : never;
/** The result type an activity entry resolves to. */
export type ActivityOutput<E> =
  E extends ActivityDefinition<never, infer O>
    ? Awaited<O>
    : E extends (...args: never[]) => infer O
      ? Awaited<O>
      : never;
