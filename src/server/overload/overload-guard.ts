/**
 * Back-pressure: while the engine is behind, operations that add new work (starting a run) are
 * refused with 503 `overloaded` and `Retry-After`, so the backlog drains instead of growing; work
 * already accepted (signals, updates, results, reads) keeps being served, because finishing it is
 * how the engine catches up.
 *
 * "Behind" is either of two signals, each with its own bound:
 * - event-loop lag (event-loop-lag.ts): the one thread runs everything — HTTP, the engine, SQLite
 *   writes and reads — so a late loop means every request is waiting;
 * - commit-queue depth: commits accepted by storage and not yet written (`Storage.pendingCommits`),
 *   read only when the server was given the storage (the engine does not expose it).
 *
 * Traps it avoids:
 * - Queueing without limit. Without it, an open-loop client at more than the server can do fills
 *   memory with waiting requests and runs, and every request's latency grows until all of them time
 *   out (issue 20: 2–3 s p50 at 100 % CPU). Refusing new runs early keeps latency of the rest flat.
 * - Shedding the wrong work. A refused signal or result would leave a run waiting that could have
 *   finished; only starts are refused (the list is data, `SHED_WHEN_OVERLOADED` in catalog.ts).
 * - A setting that fails late. Options are checked when the server is created, before it binds.
 */
import { InvalidArgumentError } from '../../core/errors.ts';
import type { Storage } from '../../storage/storage.ts';
import { OverloadedError } from '../server-errors.ts';
import { EventLoopLagProbe } from './event-loop-lag.ts';

/**
 * Event-loop lag (smoothed, ms) over which new runs are refused: 200 ms. A loop that is 200 ms late
 * adds that much to every request, well past a healthy p99, while one GC pause of up to 600 ms is
 * damped below it by the probe's smoothing.
 *
 * @example
 * serve({ engine, overload: { maxEventLoopLagMs: DEFAULT_MAX_EVENT_LOOP_LAG_MS / 2 } });
 */
export const DEFAULT_MAX_EVENT_LOOP_LAG_MS = 200;
/**
 * Commits waiting for storage over which new runs are refused: 5,000. SQLite writes each loop turn's
 * commits as one group; a few hundred per turn is a busy server, thousands mean one turn's work is
 * already more than the next write can take quickly.
 *
 * @example
 * serve({ engine, overload: { storage, maxCommitQueueDepth: 2 * DEFAULT_MAX_COMMIT_QUEUE_DEPTH } });
 */
export const DEFAULT_MAX_COMMIT_QUEUE_DEPTH = 5_000;
/**
 * What `Retry-After` says on a refused start, in seconds: 1.
 *
 * @example
 * serve({ engine, overload: { retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS * 5 } });
 */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;

/** Why new work was refused. */
export const OverloadReason = { eventLoopLag: 'event_loop_lag', commitQueue: 'commit_queue' } as const;
export type OverloadReason = (typeof OverloadReason)[keyof typeof OverloadReason];

/**
 * Back-pressure settings of `serve({ overload })`; `overload: false` turns it off. `Infinity` turns
 * one bound off.
 *
 * @example
 * serve({ engine, overload: { storage, maxEventLoopLagMs: 300, maxCommitQueueDepth: 10_000, retryAfterSeconds: 2 } });
 */
export interface OverloadOptions {
  /** Smoothed event-loop lag in ms over which new runs are refused. Default 200. */
  maxEventLoopLagMs?: number;
  /** Commits waiting for storage over which new runs are refused (needs `storage`). Default 5,000. */
  maxCommitQueueDepth?: number;
  /** Whole seconds a refused caller is told to wait (`Retry-After`). Default 1. */
  retryAfterSeconds?: number;
  /**
   * The storage the engine commits to, for its queue depth (`pendingCommits()`). Without it, or
   * when the adapter has no queue, only event-loop lag is watched. `weft serve` passes its SQLite
   * storage.
   */
  storage?: Pick<Storage, 'pendingCommits'>;
}

/** What the metrics read from the guard. */
export interface OverloadSignals {
  /** Smoothed event-loop lag in ms. */
  eventLoopLagMs(): number;
  /** Commits waiting for storage, or undefined when the storage does not say. */
  commitQueueDepth(): number | undefined;
  /** Calls refused so far, by operation and reason. */
  shedCounts(): readonly ShedCount[];
}

/** How many calls of one operation were refused for one reason. */
export interface ShedCount {
  operation: string;
  reason: OverloadReason;
  count: number;
}

/** What an operation that adds new work asks before it runs (the catalog's seam). */
export interface NewWorkAdmission {
  /** Throws `OverloadedError` (503 `overloaded`, `Retry-After`) while the engine is behind. */
  admitNewWork(operation: string): void;
}

interface Settings {
  maxEventLoopLagMs: number;
  maxCommitQueueDepth: number;
  retryAfterSeconds: number;
  pendingCommits: (() => number) | undefined;
}

/**
 * Checks `serve({ overload })` and fills in the defaults; throws `InvalidArgumentError` on a bad
 * value, so a server is never started with a setting it cannot use.
 */
function settingsOf(options: OverloadOptions): Settings {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`overload must be an object or false, not ${String(options)}`);
  }
  const { maxEventLoopLagMs, maxCommitQueueDepth, retryAfterSeconds, storage } = options;
  if (maxEventLoopLagMs !== undefined && !(typeof maxEventLoopLagMs === 'number' && maxEventLoopLagMs > 0)) {
    throw new InvalidArgumentError(
      `overload.maxEventLoopLagMs must be a positive number of ms (Infinity: off), not ${String(maxEventLoopLagMs)}`,
    );
  }
  if (
    maxCommitQueueDepth !== undefined &&
    !(maxCommitQueueDepth === Infinity || (Number.isSafeInteger(maxCommitQueueDepth) && maxCommitQueueDepth > 0))
  ) {
    throw new InvalidArgumentError(
      `overload.maxCommitQueueDepth must be a positive integer (Infinity: off), not ${String(maxCommitQueueDepth)}`,
    );
  }
  if (retryAfterSeconds !== undefined && !(Number.isSafeInteger(retryAfterSeconds) && retryAfterSeconds >= 1)) {
    throw new InvalidArgumentError(
      `overload.retryAfterSeconds must be a whole number of seconds, at least 1, not ${String(retryAfterSeconds)}`,
    );
  }
  const pendingCommits = storage?.pendingCommits;
  if (storage !== undefined && pendingCommits !== undefined && typeof pendingCommits !== 'function') {
    throw new InvalidArgumentError('overload.storage.pendingCommits must be a method');
  }
  return {
    maxEventLoopLagMs: maxEventLoopLagMs ?? DEFAULT_MAX_EVENT_LOOP_LAG_MS,
    maxCommitQueueDepth: maxCommitQueueDepth ?? DEFAULT_MAX_COMMIT_QUEUE_DEPTH,
    retryAfterSeconds: retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS,
    pendingCommits: pendingCommits === undefined ? undefined : () => pendingCommits.call(storage),
  };
}

/**
 * Decides whether the engine is behind, refuses new work while it is, and counts what it refused.
 * `close()` stops the lag probe.
 *
 * @example
 * const guard = new OverloadGuard({ storage });
 * guard.admitNewWork('weft.workflows.start'); // throws OverloadedError while behind
 * guard.close();
 */
export class OverloadGuard implements NewWorkAdmission, OverloadSignals {
  readonly #settings: Settings;
  readonly #probe: EventLoopLagProbe;
  readonly #shed = new Map<string, ShedCount>();

  /** Throws `InvalidArgumentError` on a bad option; starts the probe it is given (default: a new one). */
  constructor(options: OverloadOptions = {}, probe: EventLoopLagProbe = new EventLoopLagProbe()) {
    this.#settings = settingsOf(options);
    this.#probe = probe.start();
  }

  /** Why the engine counts as behind right now, or undefined when it is not. */
  reason(): OverloadReason | undefined {
    if (this.#probe.lagMs > this.#settings.maxEventLoopLagMs) return OverloadReason.eventLoopLag;
    const depth = this.#settings.pendingCommits?.();
    if (depth !== undefined && depth > this.#settings.maxCommitQueueDepth) return OverloadReason.commitQueue;
    return undefined;
  }

  admitNewWork(operation: string): void {
    const reason = this.reason();
    if (reason === undefined) return;
    const key = `${operation} ${reason}`;
    const counted = this.#shed.get(key);
    if (counted === undefined) this.#shed.set(key, { operation, reason, count: 1 });
    else counted.count += 1;
    throw new OverloadedError(reason, this.#settings.retryAfterSeconds);
  }

  eventLoopLagMs(): number {
    return this.#probe.lagMs;
  }

  commitQueueDepth(): number | undefined {
    return this.#settings.pendingCommits?.();
  }

  shedCounts(): readonly ShedCount[] {
    return [...this.#shed.values()].map((entry) => ({ ...entry }));
  }

  /** Stops the lag probe; the guard then judges by the last lag it measured. */
  close(): void {
    this.#probe.stop();
  }
}
