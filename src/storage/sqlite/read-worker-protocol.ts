/**
 * The messages between `SQLiteStorage`'s read worker and the engine's thread, and how an error
 * crosses between them.
 *
 * Trap it avoids: errors arriving as something else. Structured clone keeps an `Error`'s message
 * but drops `code`, `details` and the class, so a caller would get a bare `Error` where the inline
 * path gives `InvalidArgumentError` or a `SQLiteError` with its `SQLITE_*` code. Errors travel as
 * `ReadFailure` and are rebuilt with their class and code on the engine's side.
 */
import { InvalidArgumentError, WeftError } from '../../core/errors.ts';
import type { ReadOp } from './read-ops.ts';

/** The engine's thread to the worker. */
export type ToReader =
  | { kind: 'open'; path: string }
  /** `args` are the `ReadArgs` of `op`. */
  | { kind: 'read'; id: number; op: ReadOp; args: readonly unknown[]; gate?: SharedArrayBuffer }
  | { kind: 'close' };

/** The worker to the engine's thread. */
export type FromReader =
  /** Opened; `identity` is what the `identity` read returned there. */
  | { kind: 'ready'; identity: string | null }
  /** The worker cannot read the database (it cannot open it, or it is not in WAL mode). */
  | { kind: 'unavailable'; message: string }
  /** Test seam: the read `id` ran its queries and now waits on its gate, inside its read transaction. */
  | { kind: 'held'; id: number }
  | { kind: 'done'; id: number; value: unknown }
  | { kind: 'failed'; id: number; error: ReadFailure };

/** States of a test gate (an `Int32Array` over the `SharedArrayBuffer`, index 0). */
export const Gate = { hold: 0, release: 1, crash: 2 } as const;

/** An error thrown by a read in the worker, in a form structured clone keeps whole. */
export interface ReadFailure {
  name: string;
  message: string;
  /** A `WeftError`'s code or a `SQLiteError`'s `SQLITE_*` code. */
  code?: string;
  weft: boolean;
  retryable?: boolean;
  details?: Record<string, unknown>;
}

export function toReadFailure(error: unknown): ReadFailure {
  if (error instanceof WeftError) {
    const failure: ReadFailure = { name: error.name, message: error.message, code: error.code, weft: true };
    failure.retryable = error.retryable;
    if (error.details !== undefined) failure.details = error.details;
    return failure;
  }
  const code = (error as { code?: unknown } | null)?.code;
  return {
    name: error instanceof Error ? error.name : 'Error',
    message: error instanceof Error ? error.message : String(error),
    ...(typeof code === 'string' ? { code } : {}),
    weft: false,
  };
}

/** The error as the inline path would have thrown it (before `SQLiteStorage` maps corruption). */
export function fromReadFailure(failure: ReadFailure): Error {
  if (failure.weft && failure.code !== undefined) {
    const options = failure.details === undefined ? {} : { details: failure.details };
    if (failure.code === 'invalid_argument') return new InvalidArgumentError(failure.message, options);
    return new WeftError(failure.code, failure.message, { ...options, retryable: failure.retryable ?? false });
  }
  const error = new Error(failure.message);
  error.name = failure.name;
  return failure.code === undefined ? error : Object.assign(error, { code: failure.code });
}
