/**
 * Every error Weft raises, each with a stable string `code`.
 *
 * Callers (and later the server's error table) branch on `code`, never on the message or
 * the class name, so codes are part of the public contract: add new ones, never rename.
 * `retryable` says whether an activity failing with this error should be tried again.
 * Ids and names a caller passed are quoted through `clip`, so no error grows with its input.
 */
import { clip } from './clip.ts';

/**
 * Why a failed run failed, on `WorkflowFailedError.failureCategory` and `WorkflowState`:
 * `activity` (an uncaught `ActivityFailedError`), `workflow` (anything else the workflow threw),
 * `nondeterminism` (replay diverged from the journal) or `timeout` (`executionTimeout` passed).
 *
 * @example
 * if (e instanceof WorkflowFailedError && e.failureCategory === FailureCategory.activity) retryLater();
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
/** One of the `FailureCategory` values. */
export type FailureCategory = (typeof FailureCategory)[keyof typeof FailureCategory];

/** What every Weft error constructor accepts besides its message: the underlying `cause` and structured `details`. */
export interface WeftErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/**
 * Base class of every Weft error. Branch on `code` (stable, part of the contract), not on the
 * message; `retryable` says whether an activity failing with it is tried again (default false,
 * so a `WeftError` thrown from an activity fails it at once); `details` is structured context.
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

/**
 * Code `invalid_argument`: a value the caller passed is malformed — an empty name in
 * `workflow()` / `activity()`, a bad retry policy or engine option, an id, key or name over
 * `MAX_ID_LENGTH` or holding a lone surrogate (not well-formed Unicode), a malformed `ctx.run` / `ctx.all` / `ctx.race` call. Thrown at the call.
 *
 * @example
 * await engine.start(order, input, { id: '' }); // rejects with InvalidArgumentError
 */
export class InvalidArgumentError extends WeftError {
  constructor(message: string, options?: WeftErrorOptions) {
    super('invalid_argument', message, options);
  }
}

/**
 * Code `invalid_cursor`: `engine.list` was given a `cursor` it cannot continue from — not one it
 * issued (garbled, cut or edited), made for another filter or by another cursor version, or given
 * together with a non-zero `offset`. `details.field` is `'cursor'`. Drop the cursor and list again
 * from the first page. Its own code, not `invalid_argument`: a well-formed request can carry a
 * stale cursor, just as it can name a run that no longer exists.
 *
 * @example
 * await engine.list({ status: 'failed', cursor: page.nextCursor }); // page listed { status: 'running' }: rejects
 */
export class InvalidCursorError extends WeftError {
  constructor(message: string, options?: WeftErrorOptions) {
    super('invalid_cursor', message, options);
  }
}

/**
 * One way a value failed its schema: where (`path`, dotted: `items.0.sku`; `''` for the value
 * itself) and why, both clipped.
 */
export interface InputIssue {
  path: string;
  message: string;
}

/** Most issues an `InvalidInputError` carries: a list of a million bad items must not make a megabyte error. */
export const MAX_REPORTED_ISSUES = 32;

/**
 * Code `invalid_input`: a workflow's input, or a signal's or update's payload, does not match the
 * schema its definition declares. Refused before anything is stored, on every path (embedded,
 * REST, JSON-RPC, MCP); HTTP 400. `details.what` names what was checked, `details.issues` says
 * where and why (at most `MAX_REPORTED_ISSUES`; `details.issueCount` counts them all).
 *
 * @example
 * try { await engine.start(order, { amount: 'ten' }) }
 * catch (e) { if (e instanceof InvalidInputError) console.log(e.issues) } // [{ path: 'amount', message: '…' }]
 */
export class InvalidInputError extends WeftError {
  /** The issues reported (the first `MAX_REPORTED_ISSUES`), paths and messages clipped. */
  readonly issues: readonly InputIssue[];
  constructor(what: string, issues: readonly InputIssue[]) {
    const reported = issues
      .slice(0, MAX_REPORTED_ISSUES)
      .map((issue) => ({ path: clip(issue.path), message: clip(issue.message) }));
    const shown = reported
      .slice(0, 3)
      .map((issue) => (issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`));
    const more = issues.length > shown.length ? ` (and ${issues.length - shown.length} more)` : '';
    const summary = shown.length === 0 ? 'it was refused' : shown.join('; ');
    super('invalid_input', `${what} does not match its schema: ${summary}${more}`, {
      details: { what, issues: reported, ...(issues.length > reported.length ? { issueCount: issues.length } : {}) },
    });
    this.issues = reported;
  }
}

/**
 * Code `invalid_duration`: a `Duration` could not be parsed (negative, over 100 years, or a
 * string such as '5 min'). Thrown at the call that took it, by `parseDuration` and every option
 * or `ctx` method that accepts a duration.
 *
 * @example
 * parseDuration('5 min'); // throws InvalidDurationError: write '5m'
 */
export class InvalidDurationError extends WeftError {
  constructor(value: unknown) {
    super(
      'invalid_duration',
      `Invalid duration ${JSON.stringify(clip(safeString(value)))}: use milliseconds (a non-negative integer) or a string like '250ms', '30s', '5m', '2h', '1d'`,
      { details: { value: clip(safeString(value)) } },
    );
  }
}

/**
 * Code `payload_not_serializable`: a workflow input, signal payload, activity input or result, or
 * workflow result holds something the codec cannot store faithfully (a function, a symbol, a
 * class instance it has no codec for). Refused before anything is stored; `details.what` names the
 * value. An activity result that cannot be stored reaches the workflow as `ActivityFailedError`.
 */
export class PayloadNotSerializableError extends WeftError {
  constructor(what: string, reason: string) {
    super('payload_not_serializable', `${what} cannot be stored: ${reason}`, { details: { what } });
  }
}

/**
 * Code `payload_too_large`: one encoded value is larger than the engine's `maxPayloadBytes`
 * (default 2 MiB). `details` carries `what`, `size` and `limit`.
 */
export class PayloadTooLargeError extends WeftError {
  constructor(what: string, size: number, limit: number) {
    super('payload_too_large', `${what} is ${size} bytes encoded, over the limit of ${limit} bytes`, {
      details: { what, size, limit },
    });
  }
}

/**
 * Code `workflow_already_exists`: `engine.start` was given an `id` that another run already has.
 * To get the existing run back instead, start with an `idempotencyKey`.
 *
 * @example
 * try { await engine.start(order, input, { id: 'o-1' }) }
 * catch (e) { if (!(e instanceof WorkflowAlreadyExistsError)) throw e }
 */
export class WorkflowAlreadyExistsError extends WeftError {
  constructor(id: string) {
    super('workflow_already_exists', `A workflow with id '${clip(id)}' already exists`, { details: { id: clip(id) } });
  }
}

/**
 * Code `workflow_type_not_registered`: `engine.start` named a workflow (by definition or name)
 * that was never registered with this engine. `details.types` lists the names.
 */
export class WorkflowTypeNotRegisteredError extends WeftError {
  constructor(names: string[]) {
    const types = names.map((t) => clip(t));
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

/**
 * Code `workflow_already_registered`: `register()` (or `Engine.create({ workflows })`) got a
 * different definition under a name already taken. Registering the same definition again is a no-op.
 */
export class WorkflowAlreadyRegisteredError extends WeftError {
  constructor(name: string) {
    super(
      'workflow_already_registered',
      `Another workflow definition is already registered under the name '${clip(name)}'`,
      { details: { name: clip(name) } },
    );
  }
}

/**
 * Code `recovery_unregistered_types`: `recoverAll()` (or `Engine.create`) found unfinished runs
 * whose workflow type is not registered; nothing is resumed. `details` has `types` and `runCount`.
 */
export class UnregisteredWorkflowTypesError extends WeftError {
  constructor(types: string[], runCount: number) {
    super(
      'recovery_unregistered_types',
      `Cannot recover: ${runCount} unfinished run(s) belong to workflow types that are not registered: ${types.map((t) => `'${t}'`).join(', ')}. Register them before recovery.`,
      { details: { types, runCount } },
    );
  }
}

/**
 * Code `activity_not_registered`: `ctx.run('name', ...)` named an activity the workflow's
 * `.activities({...})` does not declare. Thrown inside the workflow at the call, so it fails the
 * run unless the workflow catches it.
 */
export class ActivityNotRegisteredError extends WeftError {
  constructor(workflowType: string, name: string) {
    super('activity_not_registered', `Workflow '${workflowType}' has no activity named '${name}'`, {
      details: { workflowType, activity: name },
    });
  }
}

/**
 * Code `task_queue_unavailable`: an activity bound to a task queue must run on remote workers,
 * which this version does not have. Running it in-process instead would break the promise that it
 * never runs here. Thrown by `register()` and by `ctx.run` of such an `activity()` definition.
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

/**
 * Code `workflow_not_found`: `signal`, `cancel`, `delete` or `handle(id).result()` named an id
 * with no run. (`engine.get` resolves `undefined` instead.)
 *
 * @example
 * await engine.cancel('no-such-run'); // rejects with WorkflowNotFoundError
 */
export class WorkflowNotFoundError extends WeftError {
  constructor(id: string) {
    super('workflow_not_found', `No workflow with id '${clip(id)}'`, { details: { id: clip(id) } });
  }
}

/**
 * Code `workflow_not_running`: `signal` or `cancel` of a run that has already finished.
 * `details.status` is its final status.
 *
 * @example
 * try { await engine.signal('o-1', approval, { approved: true }) }
 * catch (e) { if (!(e instanceof WorkflowNotRunningError)) throw e }
 */
export class WorkflowNotRunningError extends WeftError {
  constructor(id: string, status: string) {
    super('workflow_not_running', `Workflow '${clip(id)}' has already finished (status '${status}')`, {
      details: { id: clip(id), status },
    });
  }
}

/**
 * Throw from an activity or workflow to fail with your own stable code (default
 * `application_error`). Retryable unless `nonRetryable: true`; the code survives the journal, so a
 * workflow can branch on `ActivityFailedError.causeCode`.
 *
 * @example
 * throw new ApplicationError('card declined', { code: 'card_declined', nonRetryable: true })
 */
export class ApplicationError extends WeftError {
  constructor(message: string, options: WeftErrorOptions & { code?: string; nonRetryable?: boolean } = {}) {
    super(options.code ?? 'application_error', message, { ...options, retryable: !(options.nonRetryable ?? false) });
  }
}

/**
 * Code `activity_timeout`: one activity attempt ran past its `timeout`; it is the abort reason of
 * that attempt's `actx.signal`. Retryable: the next attempt may be faster. When attempts run out
 * the workflow sees `ActivityFailedError` with `causeCode` `activity_timeout`.
 */
export class ActivityTimeoutError extends WeftError {
  constructor(name: string, timeoutMs: number) {
    super('activity_timeout', `Activity '${name}' attempt timed out after ${timeoutMs} ms`, {
      retryable: true,
      details: { activity: name, timeoutMs },
    });
  }
}

/**
 * Code `activity_failed`: what a workflow sees at `yield* ctx.run(...)` when an activity failed for
 * good (retries exhausted or a non-retryable error). `causeCode` and `details.cause` carry the last
 * attempt's error. Uncaught, it fails the run with failure category `activity`.
 *
 * @example
 * try { yield* ctx.run('charge', input) }
 * catch (e) { if (e instanceof ActivityFailedError && e.causeCode === 'card_declined') return 'declined'; throw e }
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

/**
 * Code `workflow_failed`: `handle.result()` of a run that failed. `failureCategory` says why;
 * `details.cause` is the error that failed it.
 *
 * @example
 * try { await handle.result() } catch (e) { if (e instanceof WorkflowFailedError) console.log(e.failureCategory) }
 */
export class WorkflowFailedError extends WeftError {
  readonly failureCategory: FailureCategory;
  constructor(id: string, failureCategory: FailureCategory, cause: SerializedError) {
    super('workflow_failed', `Workflow '${id}' failed (${failureCategory}): ${cause.message}`, {
      details: { id, failureCategory, cause },
    });
    this.failureCategory = failureCategory;
  }
}

/**
 * Code `workflow_cancelled`: `handle.result()` of a run ended by `engine.cancel`;
 * also the abort reason of its `ctx.signal` and running activities' `actx.signal`.
 *
 * @example
 * await engine.cancel('o-1');
 * await handle.result(); // rejects with WorkflowCancelledError
 */
export class WorkflowCancelledError extends WeftError {
  constructor(id: string) {
    super('workflow_cancelled', `Workflow '${clip(id)}' was cancelled`, { details: { id: clip(id) } });
  }
}

/**
 * Code `workflow_timed_out`: `handle.result()` of a run that passed its `executionTimeout`
 * (status `timed_out`); also the abort reason of its `ctx.signal`.
 */
export class WorkflowTimedOutError extends WeftError {
  constructor(id: string) {
    super('workflow_timed_out', `Workflow '${id}' exceeded its execution timeout`, { details: { id } });
  }
}

/**
 * One durable step as a `NondeterminismError` reports it: the kind and name its journal entry
 * has (`activity` / `charge`), and the call as workflow code writes it (`run('charge')`).
 */
export interface StepCall {
  kind: string;
  name: string;
  call: string;
}

/**
 * Code `nondeterminism`: on replay, the workflow code asked for a different durable operation (kind
 * or name) than the journal recorded at that step — usually a code change under running runs.
 * The run fails with failure category `nondeterminism`. The message names the step's position
 * (counting from 1: every durable operation takes one, `ctx.now()` and each child of
 * `ctx.all` / `ctx.race` included), what the journal has and what the code asked for; `details` has
 * `step`, `seq` (the same position counted from 0), `recorded` and `issued` (each a `StepCall`).
 *
 * @example
 * // v1 ran `yield* ctx.run('charge', order)` as its third step; v2's code sleeps there instead:
 * // "Nondeterminism in workflow 'order' at step 3: journal has run('charge'), code asked for sleep('1h')"
 */
export class NondeterminismError extends WeftError {
  constructor(workflowType: string, seq: number, recorded: StepCall, issued: StepCall) {
    const type = clip(workflowType);
    const step = seq + 1;
    super(
      'nondeterminism',
      `Nondeterminism in workflow '${type}' at step ${step}: journal has ${recorded.call}, code asked for ${issued.call}`,
      { details: { workflowType: type, step, seq, recorded, issued } },
    );
  }
}

/**
 * Code `engine_closed`: the engine is closing or closed — from `start`, `signal`, `cancel`,
 * `delete`, `recoverAll`, and from `handle.result()` of a run still unfinished at `close()`.
 */
export class EngineClosedError extends WeftError {
  constructor() {
    super('engine_closed', 'The engine is closed');
  }
}

/**
 * Code `read_timeout` (HTTP 503): a read (a listing, an aggregate, a page of events) was abandoned
 * because it did not finish within the storage's read budget; nothing was changed. Retryable: the
 * same read may fit once the store is less busy, or with a narrower filter. `details.budgetMs`, and
 * `details.retryAfterSeconds` (the budget, rounded up) for a `Retry-After`.
 *
 * @example
 * await engine.list({ type: 'ticket' }); // over SQLiteStorage's readWorker.budgetMs: rejects with code 'read_timeout'
 */
export class ReadTimeoutError extends WeftError {
  constructor(what: string, budgetMs: number) {
    super('read_timeout', `${what} did not finish within its ${budgetMs} ms budget and was abandoned; retry later`, {
      retryable: true,
      // As long as the read ran: an expensive read retried at once would most likely time out again.
      details: { budgetMs, retryAfterSeconds: Math.max(1, Math.ceil(budgetMs / 1000)) },
    });
  }
}

/**
 * Code `update_not_handled`: `engine.update` named an update the run has registered no handler
 * for (`ctx.onUpdate`) at the point it reached. Nothing was recorded.
 */
export class UpdateNotHandledError extends WeftError {
  constructor(id: string, name: string) {
    super('update_not_handled', `Workflow '${clip(id)}' has no handler for update '${clip(name)}'`, {
      details: { id: clip(id), name: clip(name) },
    });
  }
}

/**
 * Code `update_failed`: the update's handler threw; the update is recorded as failed and the run
 * goes on. `details.cause` is the handler's error, `details.updateId` the update.
 *
 * @example
 * try { await engine.update(id, 'discount', 200) } catch (e) { if (e instanceof UpdateFailedError) console.log(e.cause) }
 */
export class UpdateFailedError extends WeftError {
  readonly updateId: string;
  constructor(updateId: string, name: string, cause: SerializedError) {
    super('update_failed', `Update '${clip(name)}' (${updateId}) was rejected: ${cause.message}`, {
      details: { updateId, name: clip(name), cause },
    });
    this.updateId = updateId;
  }
}

/** Code `query_not_handled`: `engine.query` named a query the run has no handler for (`ctx.onQuery`). */
export class QueryNotHandledError extends WeftError {
  constructor(id: string, name: string) {
    super('query_not_handled', `Workflow '${clip(id)}' has no handler for query '${clip(name)}'`, {
      details: { id: clip(id), name: clip(name) },
    });
  }
}

/**
 * Code `child_workflow_failed`: thrown at `yield* child.result()` when the child failed, was
 * cancelled or timed out (or could not be created); `details.cause` says how.
 *
 * @example
 * try { yield* child.result() } catch (e) { if ((e as WeftError).code === 'child_workflow_failed') ... }
 */
export class ChildWorkflowFailedError extends WeftError {
  constructor(childId: string, status: string, cause: SerializedError) {
    super('child_workflow_failed', `Child workflow '${childId}' ended ${status}: ${cause.message}`, {
      details: { childId, status, cause },
    });
  }
}

/** Code `stream_closed`: a stream chunk was written after its run ended. */
export class StreamClosedError extends WeftError {
  constructor(id: string) {
    super('stream_closed', `The stream of workflow '${id}' is closed`, { details: { id } });
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
