/**
 * Errors on the wire: the one table from error code to HTTP status and JSON-RPC error code, the
 * body every error leaves as (`{ "error": { "code", "message", "details"? } }`), and the way back
 * to a `WeftError` with the same code on the client.
 *
 * Traps it avoids:
 * - A 500 for bad input. Every code Weft raises for a caller's mistake is in the table with a 4xx
 *   status; only an unknown code (a bug or an infrastructure failure) maps to 500.
 * - A code the documents do not list. The table is the closed set of codes the server answers with
 *   (the OpenAPI `Error.code` enum is its keys); any other `WeftError` — a storage failure, a code a
 *   workflow's query handler made up — leaves as `internal`, its message kept for the server log.
 */
import { WeftError } from '../core/errors.ts';

/** HTTP status by error code: every code the server answers with, and only those. */
const STATUS_BY_CODE = {
  bad_request: 400,
  invalid_argument: 400,
  invalid_duration: 400,
  /** A workflow input, signal or update payload that fails the schema its definition declares (`details.issues`). */
  invalid_input: 400,
  invalid_params: 400,
  /** A list `cursor` that is not one the server issued for this filter (or comes with an `offset`): list from the first page. */
  invalid_cursor: 400,
  payload_not_serializable: 400,
  workflow_type_not_registered: 400,
  /** A fleet event subscription asked to replay more retained events than `MAX_EVENT_REPLAY`. */
  replay_window_too_large: 400,
  /** A subscription method called over HTTP: it needs a WebSocket session on `/api/jsonrpc`. */
  websocket_required: 400,
  unauthenticated: 401,
  forbidden: 403,
  origin_not_allowed: 403,
  host_not_allowed: 403,
  cors_request_not_allowed: 403,
  not_found: 404,
  workflow_not_found: 404,
  update_not_found: 404,
  method_not_allowed: 405,
  not_acceptable: 406,
  result_timeout: 408,
  workflow_already_exists: 409,
  workflow_not_running: 409,
  storage_conflict: 409,
  payload_too_large: 413,
  request_too_large: 413,
  unsupported_media_type: 415,
  /** A real-time route asked for without `Upgrade: websocket` (or `Accept: text/event-stream` where offered). */
  upgrade_required: 426,
  workflow_failed: 422,
  workflow_cancelled: 422,
  workflow_timed_out: 422,
  update_failed: 422,
  update_not_handled: 422,
  query_not_handled: 422,
  rate_limited: 429,
  /** A principal (or client address) holds as many real-time connections as the server allows. */
  too_many_connections: 429,
  /** A WebSocket session holds as many subscriptions (or calls in flight) as it may. */
  too_many_subscriptions: 429,
  /** The client went away before the answer (nginx's 499): not a server error in the metrics. */
  client_closed_request: 499,
  /** Anything the table does not name: a bug or an infrastructure failure, its details kept in the log. */
  internal: 500,
  engine_closed: 503,
  /** A read over the storage's time budget was abandoned (a listing, an aggregate, events); retry later. */
  read_timeout: 503,
  /** The engine is behind (event-loop lag or commit queue over its bound): new runs are refused, with `Retry-After`. */
  overloaded: 503,
} as const satisfies Readonly<Record<string, number>>;

/** A code the server answers with (`error.code` of a REST error, `error.data.code` over JSON-RPC). */
export type WireErrorCode = keyof typeof STATUS_BY_CODE;

/**
 * Every code the server answers with, in table order: the enum of `Error.code` in the OpenAPI document.
 *
 * @example
 * WIRE_ERROR_CODES.includes('workflow_not_found'); // true
 */
export const WIRE_ERROR_CODES = Object.freeze(Object.keys(STATUS_BY_CODE)) as readonly WireErrorCode[];

/**
 * Whether `code` is one the server answers with.
 *
 * @example
 * isWireErrorCode('workflow_not_found'); // true
 * isWireErrorCode('storage_write_failed'); // false: it leaves as `internal`
 */
export function isWireErrorCode(code: string): code is WireErrorCode {
  return Object.hasOwn(STATUS_BY_CODE, code);
}

/** JSON-RPC 2.0 error codes (the Weft code travels in `error.data.code`). */
export const JsonRpcCode = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  /** Implementation-defined server errors: -32000 to -32099. */
  serverError: -32000,
} as const;

export function httpStatusOf(code: string): number {
  return isWireErrorCode(code) ? STATUS_BY_CODE[code] : 500;
}

/**
 * JSON-RPC code of an error: invalid params (-32602) for a caller's mistake (400), internal
 * (-32603) for 500, and otherwise a code in the implementation-defined server range that names the
 * HTTP status: -32000 minus its last two digits for 4xx (404 → -32004, 409 → -32009, 422 → -32022),
 * -32050 minus them for 5xx (503 → -32053). `error.data.code` carries the Weft code either way.
 */
export function jsonRpcCodeOf(code: string): number {
  const status = httpStatusOf(code);
  if (status === 400) return JsonRpcCode.invalidParams;
  if (status === 500) return JsonRpcCode.internalError;
  return status < 500 ? JsonRpcCode.serverError - (status - 400) : JsonRpcCode.serverError - 50 - (status - 500);
}

/** What every error response carries. */
export interface WireError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * The wire form of anything thrown: a `WeftError` whose code is in the table keeps its code,
 * message and details; anything else is an `internal` error whose message does not leak internals.
 */
export function toWireError(error: unknown): WireError {
  if (error instanceof WeftError && isWireErrorCode(error.code)) {
    const wire: WireError = { code: error.code, message: error.message };
    if (error.details !== undefined) wire.details = jsonSafe(error.details);
    return wire;
  }
  return { code: 'internal', message: 'Internal server error' };
}

/** The client side: a wire error back as a `WeftError` with the same code, message and details. */
export function fromWireError(wire: WireError, status?: number): WeftError {
  const details = { ...(wire.details ?? {}), ...(status === undefined ? {} : { status }) };
  return new WeftError(wire.code, wire.message, { details });
}

function jsonSafe(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
  } catch {
    return {};
  }
}
