/**
 * Activity definitions: the side-effecting functions a workflow calls through `ctx.run`.
 * Activities run at least once; `actx.idempotencyKey` is stable per run and step so they can
 * dedupe their own side effects.
 */
import type { Duration } from '../core/duration.ts';
import { parseDuration } from '../core/duration.ts';
import { InvalidArgumentError } from '../core/errors.ts';
import { resolveRetryPolicy, type ResolvedRetryPolicy, type RetryPolicy } from '../core/retry-policy.ts';

/** What an activity receives besides its input. */
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
}

export type ActivityFunction<I = never, O = unknown> = (input: I, actx: ActivityContext) => O | Promise<O>;

export interface ActivityOptions<I, O> {
  name: string;
  execute: ActivityFunction<I, O>;
  retry?: RetryPolicy;
  /** Per-attempt timeout. */
  timeout?: Duration;
  /** Task queue of remote workers that run this activity (remote workers land later). */
  queue?: string;
}

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

export function isActivityDefinition(value: unknown): value is ActivityDefinition<never, unknown> {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'activity';
}

/** What `.activities({...})` accepts per entry: a plain function or an `activity()` definition. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- input types vary per entry
export type ActivityEntry = ActivityFunction<any, unknown> | ActivityDefinition<any, unknown>;
export type ActivityMap = Record<string, ActivityEntry>;

export type ActivityInput<E> =
  E extends ActivityDefinition<infer I, unknown>
    ? I
    : E extends (input: infer I, actx: ActivityContext) => unknown
      ? I
      : never;
export type ActivityOutput<E> =
  E extends ActivityDefinition<never, infer O>
    ? Awaited<O>
    : E extends (...args: never[]) => infer O
      ? Awaited<O>
      : never;
