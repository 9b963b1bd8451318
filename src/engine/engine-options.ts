/**
 * The option, handle and state types of the Engine's public API, apart from the class so the
 * class file holds behaviour only.
 */
import type { Clock } from '../core/clock.ts';
import type { Duration } from '../core/duration.ts';
import type { FailureCategory, SerializedError } from '../core/errors.ts';
import type { RandomSource } from '../core/random.ts';
import type { AnyWorkflowDefinition } from '../define/workflow.ts';
import type { RunStatus, Storage } from '../storage/storage.ts';

/** Longest accepted workflow id or idempotency key, in characters. */
export const MAX_ID_LENGTH = 256;

export interface EngineOptions {
  storage: Storage;
  /** Time source; tests pass a manual clock. */
  clock?: Clock;
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
}

export interface EngineCreateOptions extends EngineOptions {
  workflows?: Record<string, AnyWorkflowDefinition> | readonly AnyWorkflowDefinition[];
  /** Resume unfinished runs found in storage. Default true. */
  recover?: boolean;
}

export interface StartOptions {
  /** The run's id; generated when omitted. A taken id fails with `workflow_already_exists`. */
  id?: string;
  /** A second start with the same key returns the first run instead of creating another. */
  idempotencyKey?: string;
  /** The run ends as `timed_out` when it has not finished this long after it started. */
  executionTimeout?: Duration;
}

export interface WorkflowHandle<O = unknown> {
  readonly id: string;
  /** Resolves with the run's result; rejects with `WorkflowFailedError`, `WorkflowCancelledError` or `WorkflowTimedOutError`. */
  result(): Promise<O>;
}

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
