/**
 * The option, handle and state types of the Engine's public API, apart from the class so the
 * class file holds behaviour only.
 */
import type { Clock } from '../core/clock.ts';
import { checkName, MAX_NAME_LENGTH } from '../core/names.ts';
import type { Duration } from '../core/duration.ts';
import type { FailureCategory, SerializedError } from '../core/errors.ts';
import type { RandomSource } from '../core/random.ts';
import type { AnyWorkflowDefinition } from '../define/workflow.ts';
import type { RunStatus, Storage } from '../storage/storage.ts';

/** Longest accepted workflow id or idempotency key, in characters. */
export const MAX_ID_LENGTH = MAX_NAME_LENGTH;
/**
 * Throws `invalid_argument` unless `value` is a non-empty, well-formed string (no lone surrogate) of
 * at most `MAX_ID_LENGTH` characters: the check of every id, key and name a public method takes.
 */
export function checkKey(value: unknown, what: string): asserts value is string {
  checkName(value, what);
}

/** Fleet events kept by default, and the least an engine may be configured to keep. */
export const DEFAULT_EVENT_RETENTION = 10_000;
export const MIN_EVENT_RETENTION = 1_000;

/**
 * What `new Engine(...)` takes. Only `storage` is required; `close()` never closes it.
 *
 * @example
 * const engine = new Engine({ storage: new MemoryStorage(), maxPayloadBytes: 512 * 1024, shutdownGracePeriod: '30s' });
 */
export interface EngineOptions {
  /** Where runs, journals, timers and inboxes live. */
  storage: Storage;
  /** Time source; tests pass a manual clock. */
  clock?: Clock;
  /** Source of generated run ids and of `ctx.random()` / `ctx.uuid()`; tests pass a fixed one. */
  random?: RandomSource;
  /** Upper bound of one encoded input, result or payload. Default 2 MiB. */
  maxPayloadBytes?: number;
  /** How long `close()` lets in-flight activities finish before aborting them. Default '10s'. */
  shutdownGracePeriod?: Duration;
  /**
   * How many suspended runs stay in memory. Past this, the longest-suspended are evicted and
   * rebuilt from their journal when a timer or signal wakes them. Default 1000; 0 evicts every
   * suspended run at once.
   */
  maxSuspendedInMemory?: number;
  /**
   * How many of the newest fleet events the durable event log keeps (older ones are pruned as new
   * ones arrive). Default 10,000; at least 1,000.
   */
  eventRetention?: number;
}

/**
 * What `Engine.create(...)` takes: the engine options plus the workflows to register first.
 *
 * @example
 * await using engine = await Engine.create({ storage: new MemoryStorage(), workflows: [order, reminder] });
 */
export interface EngineCreateOptions extends EngineOptions {
  /** Registered before recovery; as a record, only the values count (names come from the definitions). */
  workflows?: Record<string, AnyWorkflowDefinition> | readonly AnyWorkflowDefinition[];
  /** Resume unfinished runs found in storage. Default true. */
  recover?: boolean;
}

/**
 * Options of `engine.start`.
 *
 * @example
 * const handle = await engine.start(order, input, { id: 'o-1', idempotencyKey: 'req-42', executionTimeout: '30d' });
 */
export interface StartOptions {
  /** The run's id; generated when omitted. A taken id fails with `workflow_already_exists`. */
  id?: string;
  /** A second start with the same key returns the first run instead of creating another. At most 256 characters. */
  idempotencyKey?: string;
  /** The run ends as `timed_out` when it has not finished this long after it started. */
  executionTimeout?: Duration;
}

/**
 * A run by id, from `engine.start` or `engine.handle(id)`.
 *
 * @example
 * const result = await engine.handle<{ status: string }>('o-1').result();
 */
export interface WorkflowHandle<O = unknown> {
  readonly id: string;
  /**
   * Waits for the run to finish and resolves with its result; rejects with `WorkflowFailedError`,
   * `WorkflowCancelledError` or `WorkflowTimedOutError`, or `WorkflowNotFoundError` for an unknown id.
   * With a `signal`, stops waiting (rejecting with its reason) when it aborts; the run goes on.
   */
  result(options?: { signal?: AbortSignal }): Promise<O>;
}

/**
 * A snapshot of a run, from `engine.get(id)`, with its input and result decoded.
 *
 * @example
 * const state = await engine.get('o-1');
 * if (state?.status === 'failed') console.log(state.failureCategory, state.error?.code);
 */
export interface WorkflowState {
  id: string;
  type: string;
  version: string | null;
  status: RunStatus;
  input: unknown;
  /** Set when completed. */
  result?: unknown;
  /** Set when failed, cancelled or timed out. */
  error?: SerializedError;
  failureCategory?: FailureCategory;
  idempotencyKey: string | null;
  createdAt: Date;
  updatedAt: Date;
  deadline: Date | null;
}
