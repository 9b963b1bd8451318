/**
 * Every error Weft raises, each with a stable string `code`.
 *
 * Callers (and later the server's error table) branch on `code`, never on the message or
 * the class name, so codes are part of the public contract: add new ones, never rename.
 * `retryable` says whether an activity failing with this error should be tried again.
 */

export const FailureCategory = {
  activity: 'activity',
  workflow: 'workflow',
  timeout: 'timeout',
  nondeterminism: 'nondeterminism',
  notRegistered: 'not_registered',
  cancelled: 'cancelled',
  internal: 'internal',
} as const;
export type FailureCategory = (typeof FailureCategory)[keyof typeof FailureCategory];

export interface WeftErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/**
 * Base class of every Weft error.
 *
 * @example
 * try { await engine.start('nope', {}) } catch (e) { if (e instanceof WeftError) console.log(e.code) }
 */
export class WeftError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: WeftErrorOptions & { retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }
}

/** A value the caller passed is malformed (bad option, bad name, bad shape). */
export class InvalidArgumentError extends WeftError {
  constructor(message: string, options?: WeftErrorOptions) {
    super('invalid_argument', message, options);
  }
}

/** A duration string or number could not be parsed. */
export class InvalidDurationError extends WeftError {
  constructor(value: unknown) {
    super(
      'invalid_duration',
      `Invalid duration ${JSON.stringify(safeString(value))}: use milliseconds (a non-negative integer) or a string like '250ms', '30s', '5m', '2h', '1d'`,
      { details: { value: safeString(value) } },
    );
  }
}

/** A value cannot be stored by the codec (functions, symbols, class instances with no codec). */
export class PayloadNotSerializableError extends WeftError {
  constructor(what: string, reason: string) {
    super('payload_not_serializable', `${what} cannot be stored: ${reason}`, { details: { what } });
  }
}

/** An encoded value is larger than the engine's `maxPayloadBytes`. */
export class PayloadTooLargeError extends WeftError {
  constructor(what: string, size: number, limit: number) {
    super('payload_too_large', `${what} is ${size} bytes encoded, over the limit of ${limit} bytes`, {
      details: { what, size, limit },
    });
  }
}

export class WorkflowAlreadyExistsError extends WeftError {
  constructor(id: string) {
    super('workflow_already_exists', `A workflow with id '${id}' already exists`, { details: { id } });
  }
}

export class WorkflowTypeNotRegisteredError extends WeftError {
  constructor(types: string[]) {
    const list = types.map((t) => `'${t}'`).join(', ');
    super(
      'workflow_type_not_registered',
      types.length === 1
        ? `Workflow type ${list} is not registered with this engine`
        : `Workflow types ${list} are not registered with this engine`,
      { details: { types } },
    );
  }
}

export class WorkflowAlreadyRegisteredError extends WeftError {
  constructor(name: string) {
    super('workflow_already_registered', `Another workflow definition is already registered under the name '${name}'`, {
      details: { name },
    });
  }
}

/** Recovery found unfinished runs whose workflow type this engine does not know. */
export class UnregisteredWorkflowTypesError extends WeftError {
  constructor(types: string[], runCount: number) {
    super(
      'recovery_unregistered_types',
      `Cannot recover: ${runCount} unfinished run(s) belong to workflow types that are not registered: ${types.map((t) => `'${t}'`).join(', ')}. Register them before recovery.`,
      { details: { types, runCount } },
    );
  }
}

export class ActivityNotRegisteredError extends WeftError {
  constructor(workflowType: string, name: string) {
    super('activity_not_registered', `Workflow '${workflowType}' has no activity named '${name}'`, {
      details: { workflowType, activity: name },
    });
  }
}

/**
 * An activity bound to a task queue must run on remote workers, which this version does not have.
 * Running it in-process instead would break the promise that it never runs here.
 */
export class TaskQueueUnavailableError extends WeftError {
  constructor(workflowType: string, activity: string, queue: string) {
    super(
      'task_queue_unavailable',
      `Activity '${activity}' of workflow '${workflowType}' is bound to task queue '${queue}', but remote workers are not available in this version; remove 'queue' to run it in-process`,
      { details: { workflowType, activity, queue } },
    );
  }
}

export class WorkflowNotFoundError extends WeftError {
  constructor(id: string) {
    super('workflow_not_found', `No workflow with id '${id}'`, { details: { id } });
  }
}

export class WorkflowNotRunningError extends WeftError {
  constructor(id: string, status: string) {
    super('workflow_not_running', `Workflow '${id}' has already finished (status '${status}')`, {
      details: { id, status },
    });
  }
}

/**
 * Throw from an activity or workflow to fail with your own stable code.
 *
 * @example
 * throw new ApplicationError('card declined', { code: 'card_declined', nonRetryable: true })
 */
export class ApplicationError extends WeftError {
  constructor(message: string, options: WeftErrorOptions & { code?: string; nonRetryable?: boolean } = {}) {
    super(options.code ?? 'application_error', message, { ...options, retryable: !(options.nonRetryable ?? false) });
  }
}

/** One activity attempt ran past its `timeout`. Retryable: the next attempt may be faster. */
export class ActivityTimeoutError extends WeftError {
  constructor(name: string, timeoutMs: number) {
    super('activity_timeout', `Activity '${name}' attempt timed out after ${timeoutMs} ms`, {
      retryable: true,
      details: { activity: name, timeoutMs },
    });
  }
}

/**
 * What a workflow sees when an activity failed for good (retries exhausted or a
 * non-retryable error). `cause` carries the last attempt's error code and message.
 */
export class ActivityFailedError extends WeftError {
  readonly activity: string;
  readonly attempts: number;
  readonly causeCode: string | undefined;

  constructor(activity: string, attempts: number, cause: SerializedError) {
    super('activity_failed', `Activity '${activity}' failed after ${attempts} attempt(s): ${cause.message}`, {
      details: { activity, attempts, cause },
    });
    this.activity = activity;
    this.attempts = attempts;
    this.causeCode = cause.code;
  }
}

/** `handle.result()` of a run that failed. */
export class WorkflowFailedError extends WeftError {
  readonly failureCategory: FailureCategory;
  constructor(id: string, failureCategory: FailureCategory, cause: SerializedError) {
    super('workflow_failed', `Workflow '${id}' failed (${failureCategory}): ${cause.message}`, {
      details: { id, failureCategory, cause },
    });
    this.failureCategory = failureCategory;
  }
}

/** `handle.result()` of a cancelled run. */
export class WorkflowCancelledError extends WeftError {
  constructor(id: string) {
    super('workflow_cancelled', `Workflow '${id}' was cancelled`, { details: { id } });
  }
}

/** `handle.result()` of a run that passed its `executionTimeout`. */
export class WorkflowTimedOutError extends WeftError {
  constructor(id: string) {
    super('workflow_timed_out', `Workflow '${id}' exceeded its execution timeout`, { details: { id } });
  }
}

/** The workflow code issued a different durable operation than the journal recorded. */
export class NondeterminismError extends WeftError {
  constructor(message: string, details: Record<string, unknown>) {
    super('nondeterminism', message, { details });
  }
}

export class EngineClosedError extends WeftError {
  constructor() {
    super('engine_closed', 'The engine is closed');
  }
}

/** An error as it is stored in the journal and sent over the wire. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string | undefined;
  retryable?: boolean | undefined;
  details?: Record<string, unknown> | undefined;
}

/** Turns anything thrown into its stored form, keeping code and details of Weft errors. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof WeftError) {
    return {
      name: error.name,
      message: error.message,
      code: error.code,
      retryable: error.retryable,
      details: error.details,
    };
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, code: typeof code === 'string' ? code : undefined };
  }
  return { name: 'Error', message: typeof error === 'string' ? error : safeString(error) };
}

/** Rebuilds a thrown value from its stored form; the code and details survive, the stack does not. */
export function deserializeError(stored: SerializedError): WeftError {
  if (stored.code === 'activity_failed' && stored.details) {
    const d = stored.details as { activity: string; attempts: number; cause: SerializedError };
    return new ActivityFailedError(d.activity, d.attempts, d.cause);
  }
  const error = new WeftError(stored.code ?? 'error', stored.message, {
    retryable: stored.retryable ?? false,
    ...(stored.details ? { details: stored.details } : {}),
  });
  error.name = stored.name;
  return error;
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return 'non-Error value thrown';
  }
}
