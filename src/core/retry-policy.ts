/**
 * Retry policies for activities: how many attempts, how long to wait between them, and which
 * error codes are never worth another attempt.
 */
import { parseDuration, type Duration } from './duration.ts';
import { InvalidArgumentError } from './errors.ts';

/**
 * How an activity is retried. Every field is optional; the default is 3 attempts, waiting 1s,
 * then 2s (x2 each time, capped at 1m). Errors whose `code` is listed in `nonRetryable`, and
 * `WeftError`s whose `retryable` is false, fail the activity without another attempt.
 *
 * @example
 * const retry: RetryPolicy = { maxAttempts: 5, initialInterval: '200ms', nonRetryable: ['card_declined'] };
 */
export interface RetryPolicy {
  /** Total attempts including the first. Default 3. */
  maxAttempts?: number;
  /** Wait before the second attempt. Default '1s'. */
  initialInterval?: Duration;
  /** Each further wait is the previous one times this. Default 2. */
  backoffCoefficient?: number;
  /** Upper bound of one wait. Default '1m'. */
  maxInterval?: Duration;
  /** Error codes that fail the activity at once. */
  nonRetryable?: string[];
}

/** A `RetryPolicy` validated, in milliseconds and with every default filled in. */
export interface ResolvedRetryPolicy {
  maxAttempts: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maxIntervalMs: number;
  nonRetryable: ReadonlySet<string>;
}

/** The policy of an activity that sets none: 3 attempts, 1s then x2, at most 1m between attempts. */
export const DEFAULT_RETRY_POLICY: ResolvedRetryPolicy = {
  maxAttempts: 3,
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maxIntervalMs: 60_000,
  nonRetryable: new Set(),
};

/** Validates a user policy and fills in defaults; throws `invalid_argument` / `invalid_duration`. */
export function resolveRetryPolicy(policy: RetryPolicy | undefined): ResolvedRetryPolicy {
  if (policy === undefined) return DEFAULT_RETRY_POLICY;
  const maxAttempts = policy.maxAttempts ?? DEFAULT_RETRY_POLICY.maxAttempts;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new InvalidArgumentError(`retry.maxAttempts must be an integer >= 1, got ${String(maxAttempts)}`);
  }
  const backoffCoefficient = policy.backoffCoefficient ?? DEFAULT_RETRY_POLICY.backoffCoefficient;
  if (!Number.isFinite(backoffCoefficient) || backoffCoefficient < 1) {
    throw new InvalidArgumentError(`retry.backoffCoefficient must be a number >= 1, got ${String(backoffCoefficient)}`);
  }
  return {
    maxAttempts,
    backoffCoefficient,
    initialIntervalMs:
      policy.initialInterval === undefined
        ? DEFAULT_RETRY_POLICY.initialIntervalMs
        : parseDuration(policy.initialInterval),
    maxIntervalMs:
      policy.maxInterval === undefined ? DEFAULT_RETRY_POLICY.maxIntervalMs : parseDuration(policy.maxInterval),
    nonRetryable: new Set(policy.nonRetryable ?? []),
  };
}

/** Milliseconds to wait after failed attempt number `attempt` (1-based). */
export function backoffDelay(policy: ResolvedRetryPolicy, attempt: number): number {
  const raw = policy.initialIntervalMs * policy.backoffCoefficient ** (attempt - 1);
  return Math.min(raw, policy.maxIntervalMs);
}
