/**
 * Runs one activity step to a final outcome: attempts, per-attempt timeouts, backoff and the
 * retry policy's non-retryable codes. Nothing here is durable — the caller journals the final
 * outcome — so a crash mid-retry starts the step again at attempt 1 (activities are
 * at-least-once; see docs/durability.md).
 */
import type { Clock } from '../core/clock.ts';
import {
  ActivityFailedError,
  ActivityTimeoutError,
  serializeError,
  WeftError,
  type SerializedError,
} from '../core/errors.ts';
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
  workflowId: string;
  workflowType: string;
  idempotencyKey: string;
  clock: Clock;
  onAttempt?: (attempt: number) => void;
}

export type ActivityResult =
  | { status: 'completed'; value: unknown; attempts: number }
  | { status: 'failed'; error: ActivityFailedError; attempts: number }
  | { status: 'aborted' };

export async function runActivity(run: ActivityRun): Promise<ActivityResult> {
  for (let attempt = 1; ; attempt++) {
    if (run.signal.aborted) return { status: 'aborted' };
    run.onAttempt?.(attempt);
    let failure: unknown;
    try {
      const value = await runAttempt(run, attempt);
      return { status: 'completed', value, attempts: attempt };
    } catch (error) {
      failure = error;
    }
    if (run.signal.aborted) return { status: 'aborted' };
    if (!isRetryable(failure, run.retry) || attempt >= run.retry.maxAttempts) {
      return {
        status: 'failed',
        error: new ActivityFailedError(run.name, attempt, causeOf(failure)),
        attempts: attempt,
      };
    }
    const waited = await delay(run.clock, backoffDelay(run.retry, attempt), run.signal);
    if (!waited) return { status: 'aborted' };
  }
}

async function runAttempt(run: ActivityRun, attempt: number): Promise<unknown> {
  const controller = new AbortController();
  const onOuterAbort = (): void => controller.abort(run.signal.reason);
  run.signal.addEventListener('abort', onOuterAbort, { once: true });
  const { promise: stopped, reject: stop } = Promise.withResolvers<never>();
  controller.signal.addEventListener('abort', () => stop(controller.signal.reason), { once: true });
  const timer =
    run.timeoutMs === undefined
      ? undefined
      : run.clock.setTimer(run.timeoutMs, () => controller.abort(new ActivityTimeoutError(run.name, run.timeoutMs!)));
  const actx: ActivityContext = {
    signal: controller.signal,
    attempt,
    idempotencyKey: run.idempotencyKey,
    workflowId: run.workflowId,
    workflowType: run.workflowType,
    activityName: run.name,
  };
  try {
    // Racing against `stopped` frees the step when an attempt times out or is abandoned,
    // even if the activity ignores its signal.
    return await Promise.race([Promise.resolve().then(() => run.execute(run.input as never, actx)), stopped]);
  } finally {
    timer?.cancel();
    run.signal.removeEventListener('abort', onOuterAbort);
    stopped.catch(() => undefined);
  }
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

function causeOf(error: unknown): SerializedError {
  return serializeError(error);
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
