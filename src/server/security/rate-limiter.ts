/**
 * `serve({ rateLimit })`: a fixed-window request counter per key (the principal's subject, else the
 * client address). Windows are aligned to the clock (`floor(now / windowMs)`), so every key's
 * window resets at the same instant and the whole table is dropped then: memory is bounded by the
 * keys seen within one window.
 *
 * A single-process guardrail, not a distributed quota: each server process counts on its own.
 */
import { InvalidArgumentError } from '../../core/errors.ts';

/**
 * At most `maxRequests` counted requests per key per `windowMs`.
 *
 * @example
 * serve({ engine, auth, rateLimit: { maxRequests: 100, windowMs: 60_000 } });
 */
export interface RateLimitOptions {
  maxRequests: number;
  windowMs: number;
}

/** The outcome of counting one request, with what the `X-RateLimit-*` headers report. */
export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** When the current window ends, epoch milliseconds. */
  resetAt: number;
}

/**
 * The counter. `now` is for tests that move the clock.
 *
 * @example
 * const limiter = new FixedWindowRateLimiter({ maxRequests: 2, windowMs: 1000 });
 * limiter.take('ip:127.0.0.1').allowed; // true, true, then false until the window ends
 */
export class FixedWindowRateLimiter {
  readonly #maxRequests: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #windowStart = Number.NEGATIVE_INFINITY;
  #counts = new Map<string, number>();

  constructor(options: RateLimitOptions, now: () => number = Date.now) {
    checkRateLimitOptions(options);
    this.#maxRequests = options.maxRequests;
    this.#windowMs = options.windowMs;
    this.#now = now;
  }

  /**
   * Counts `cost` requests of `key` (a JSON-RPC batch costs one per call) and says whether they all
   * fit in the budget; a cost that does not fit is refused whole.
   */
  take(key: string, cost = 1): RateLimitDecision {
    const now = this.#now();
    const windowStart = Math.floor(now / this.#windowMs) * this.#windowMs;
    if (windowStart !== this.#windowStart) {
      this.#windowStart = windowStart;
      this.#counts = new Map();
    }
    const count = (this.#counts.get(key) ?? 0) + cost;
    // Refused requests keep counting up to one past the budget, no further (no unbounded growth to track).
    this.#counts.set(key, Math.min(count, this.#maxRequests + 1));
    return {
      allowed: count <= this.#maxRequests,
      limit: this.#maxRequests,
      remaining: Math.max(0, this.#maxRequests - count),
      resetAt: windowStart + this.#windowMs,
    };
  }
}

/**
 * The `X-RateLimit-*` headers of a decision (and `Retry-After`, in whole seconds, when refused).
 * `X-RateLimit-Reset` is the end of the window in epoch seconds.
 */
export function rateLimitHeaders(decision: RateLimitDecision, now: number = Date.now()): Record<string, string> {
  const headers: Record<string, string> = {
    'x-ratelimit-limit': String(decision.limit),
    'x-ratelimit-remaining': String(decision.remaining),
    'x-ratelimit-reset': String(Math.ceil(decision.resetAt / 1000)),
  };
  if (!decision.allowed) headers['retry-after'] = String(retryAfterSeconds(decision, now));
  return headers;
}

/** Whole seconds until the decision's window ends (at least 1): what `Retry-After` says. */
export function retryAfterSeconds(decision: RateLimitDecision, now: number = Date.now()): number {
  return Math.max(1, Math.ceil((decision.resetAt - now) / 1000));
}

/** Throws `InvalidArgumentError` for a budget that is not two positive integers. */
export function checkRateLimitOptions(options: RateLimitOptions): void {
  const { maxRequests, windowMs } = options ?? {};
  if (!Number.isSafeInteger(maxRequests) || maxRequests < 1) {
    throw new InvalidArgumentError(`rateLimit.maxRequests must be a positive integer, not ${String(maxRequests)}`);
  }
  if (!Number.isSafeInteger(windowMs) || windowMs < 1) {
    throw new InvalidArgumentError(`rateLimit.windowMs must be a positive integer, not ${String(windowMs)}`);
  }
}
