/**
 * Runs one activity step to a final outcome: attempts, per-attempt timeouts, backoff and the
 * retry policy's non-retryable codes. Nothing here is durable — the caller journals the final
 * outcome — so a crash mid-retry starts the step again at attempt 1 (activities are
 * at-least-once; see docs/durability.md).
 *
 * Trap it avoids: allocating an AbortController and listeners per attempt. An attempt without a
 * timeout uses the step's signal as is; only a timeout (or a step that can be abandoned alone)
 * pays for a controller and a race.
 */
import type { Clock } from '../core/clock.ts';
import { ActivityFailedError, ActivityTimeoutError, serializeError, WeftError } from '../core/errors.ts';
import { backoffDelay, type ResolvedRetryPolicy } from '../core/retry-policy.ts';
import type { ActivityContext, ActivityFunction } from '../define/activity.ts';

export interface ActivityRun {
  name: string;
  execute: ActivityFunction<never, unknown>;
  input: unknown;
  retry: ResolvedRetryPolicy;
  timeoutMs: number | undefined;
  /** Aborted when the step is abandoned, the run ends or the engine closes. */
  signal: AbortSignal;
  /**
   * Stop waiting for an attempt as soon as `signal` aborts, even if the activity ignores it.
   * Needed when the step can be abandoned while its run goes on; a step that only stops with its
   * run has nobody left waiting for it.
   */
  stopWaitingOnAbort: boolean;
  workflowId: string;
  workflowType: string;
  idempotencyKey: string;
  clock: Clock;
  stream: ActivityContext['stream'];
}

export type ActivityResult =
  | { status: 'completed'; value: unknown; attempts: number }
  | { status: 'failed'; error: ActivityFailedError; attempts: number }
  | { status: 'aborted' };

export async function runActivity(run: ActivityRun): Promise<ActivityResult> {
  for (let attempt = 1; ; attempt++) {
    if (run.signal.aborted) return { status: 'aborted' };
    let failure: unknown;
    try {
      const value = await runAttempt(run, attempt);
      if (run.signal.aborted) return { status: 'aborted' };
      return { status: 'completed', value, attempts: attempt };
    } catch (error) {
      failure = error;
    }
    if (run.signal.aborted) return { status: 'aborted' };
    if (!isRetryable(failure, run.retry) || attempt >= run.retry.maxAttempts) {
      const error = new ActivityFailedError(run.name, attempt, serializeError(failure));
      return { status: 'failed', error, attempts: attempt };
    }
    const waited = await delay(run.clock, backoffDelay(run.retry, attempt), run.signal);
    if (!waited) return { status: 'aborted' };
  }
}

function runAttempt(run: ActivityRun, attempt: number): Promise<unknown> {
  const needsOwnSignal = run.timeoutMs !== undefined;
  const controller = needsOwnSignal ? new AbortController() : undefined;
  const actx: ActivityContext = {
    signal: controller?.signal ?? run.signal,
    attempt,
    idempotencyKey: run.idempotencyKey,
    workflowId: run.workflowId,
    workflowType: run.workflowType,
    activityName: run.name,
    stream: run.stream,
  };
  let execution: Promise<unknown>;
  try {
    execution = Promise.resolve(run.execute(run.input as never, actx));
  } catch (error) {
    execution = Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
  if (controller === undefined && !run.stopWaitingOnAbort) return execution;

  // Race the attempt against its timeout and (where asked) the step's abort, so the step is
  // freed even when the activity ignores its signal.
  const { promise: stopped, reject: stop } = Promise.withResolvers<never>();
  const onOuterAbort = (): void => {
    controller?.abort(run.signal.reason);
    stop(run.signal.reason);
  };
  if (run.signal.aborted) onOuterAbort();
  else run.signal.addEventListener('abort', onOuterAbort, { once: true });
  const timer =
    run.timeoutMs === undefined
      ? undefined
      : run.clock.setTimer(run.timeoutMs, () => {
          const timeout = new ActivityTimeoutError(run.name, run.timeoutMs!);
          controller?.abort(timeout);
          stop(timeout);
        });
  return Promise.race([execution, stopped]).finally(() => {
    timer?.cancel();
    run.signal.removeEventListener('abort', onOuterAbort);
    stopped.catch(() => undefined);
  });
}

function isRetryable(error: unknown, policy: ResolvedRetryPolicy): boolean {
  const code = errorCode(error);
  if (code !== undefined && policy.nonRetryable.has(code)) return false;
  if (error instanceof WeftError) return error.retryable;
  return true;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function delay(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const onAbort = (): void => {
      timer.cancel();
      resolve(false);
    };
    const timer = clock.setTimer(ms, () => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
