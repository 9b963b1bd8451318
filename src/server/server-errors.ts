/**
 * The errors the server layer raises itself (the engine's are in core/errors.ts). Each has a
 * stable code with its HTTP status in protocol/wire-errors.ts.
 *
 * Trap it avoids: an error as large as the request. Whatever a caller sent and an error quotes
 * (a path, a method name, a parameter, an issue's path) goes through `clip`.
 */
import { clip } from '../core/clip.ts';
import { WeftError } from '../core/errors.ts';

/** Code `bad_request`: the request could not be read (malformed JSON or MessagePack, a body that is not an object). */
export class BadRequestError extends WeftError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('bad_request', message, details === undefined ? {} : { details });
  }
}

/** Code `invalid_params`: the parameters do not match the operation's schema; `details.issues` says where. */
export class InvalidParamsError extends WeftError {
  constructor(operation: string, given: { path: string; message: string }[]) {
    const issues = given.map((issue) => ({ path: clip(issue.path), message: clip(issue.message, 1024) }));
    const first = issues[0];
    const where = first === undefined ? '' : `: ${first.path === '' ? '' : `${first.path}: `}${first.message}`;
    super('invalid_params', `Invalid parameters for ${operation}${where}`, { details: { operation, issues } });
  }
}

/** Code `not_found`: no route matches the path. */
export class RouteNotFoundError extends WeftError {
  constructor(path: string) {
    super('not_found', `No route for ${clip(path)}`, { details: { path: clip(path) } });
  }
}

/** Code `method_not_allowed`: the path exists, not with this method; `details.allow` lists the methods. */
export class MethodNotAllowedError extends WeftError {
  constructor(method: string, allow: string[]) {
    super('method_not_allowed', `Method ${clip(method)} is not allowed here`, {
      details: { method: clip(method), allow },
    });
  }
}

/** Code `request_too_large`: the body is over the server's limit. */
export class RequestTooLargeError extends WeftError {
  constructor(limit: number) {
    super('request_too_large', `The request body is over the limit of ${limit} bytes`, { details: { limit } });
  }
}

/** Code `unsupported_media_type`: a body in a format other than JSON or MessagePack. */
export class UnsupportedMediaTypeError extends WeftError {
  constructor(contentType: string) {
    super('unsupported_media_type', `Content-Type '${clip(contentType)}' is not supported; send JSON or MessagePack`, {
      details: { contentType: clip(contentType) },
    });
  }
}

/** Code `result_timeout`: the run did not finish within the result endpoint's wait. */
export class ResultTimeoutError extends WeftError {
  constructor(id: string, waitedMs: number) {
    super('result_timeout', `Workflow '${clip(id)}' did not finish within ${waitedMs} ms`, {
      details: { id: clip(id), waitedMs },
    });
  }
}

/** Code `update_not_found`: no update with that id. */
export class UpdateNotFoundError extends WeftError {
  constructor(updateId: string) {
    super('update_not_found', `No update with id '${clip(updateId)}'`, { details: { updateId: clip(updateId) } });
  }
}

/** Code `client_closed_request` (499, as nginx logs it): the client went away before the answer. */
export class ClientClosedRequestError extends WeftError {
  constructor() {
    super('client_closed_request', 'The client closed the request');
  }
}

/** Code `not_found` (404 in `error.data`), JSON-RPC -32601: the method is not in the catalog. */
export class MethodNotFoundError extends WeftError {
  constructor(method: string) {
    super('not_found', `Method not found: ${clip(method)}`, { details: { method: clip(method) } });
  }
}

/** Code `origin_not_allowed` (403): a CORS preflight from an origin the policy does not allow. */
export class OriginNotAllowedError extends WeftError {
  constructor() {
    super('origin_not_allowed', 'This origin is not allowed to call the API from a browser');
  }
}

/**
 * Code `host_not_allowed` (403): the `Host` header names a host this server does not answer to
 * (DNS rebinding protection; `serve({ allowedHosts })` lists more).
 */
export class HostNotAllowedError extends WeftError {
  constructor(hostname: string) {
    super('host_not_allowed', 'This server does not answer requests for that host; list it in allowedHosts', {
      details: { host: hostname.slice(0, 256) },
    });
  }
}

/** Code `cors_request_not_allowed` (403): a CORS preflight asking for a method or header not allowed. */
export class CorsRequestNotAllowedError extends WeftError {
  constructor(message: string) {
    super('cors_request_not_allowed', message);
  }
}

/**
 * An error whose response carries headers of its own (`WWW-Authenticate`, `Retry-After`).
 * The handler adds them to the error response.
 */
export class WeftHttpError extends WeftError {
  readonly responseHeaders: Readonly<Record<string, string>>;

  constructor(
    code: string,
    message: string,
    responseHeaders: Record<string, string>,
    details?: Record<string, unknown>,
  ) {
    super(code, message, details === undefined ? {} : { details });
    this.responseHeaders = responseHeaders;
  }
}

/** The `WWW-Authenticate` challenge of 401 and 403 answers (RFC 6750). */
const REALM = 'Bearer realm="weft"';

/** Code `unauthenticated` (401): no credential, or one no configured method accepts. */
export class UnauthenticatedError extends WeftHttpError {
  constructor(headers: Record<string, string> = {}) {
    super('unauthenticated', 'Authentication required: send a valid API key or bearer token', {
      ...headers,
      'www-authenticate': REALM,
    });
  }
}

/** Code `forbidden` (403): authenticated, but without the scope the operation needs. */
export class ForbiddenError extends WeftHttpError {
  constructor(method: string, requiredScope: string) {
    super(
      'forbidden',
      `'${method}' needs the scope '${requiredScope}'`,
      { 'www-authenticate': `${REALM}, error="insufficient_scope", scope="${requiredScope}"` },
      { method, requiredScope },
    );
  }
}

/** Code `rate_limited` (429): over the request budget of the current window. */
export class RateLimitedError extends WeftHttpError {
  constructor(headers: Record<string, string>, retryAfterSeconds: number) {
    super('rate_limited', `Too many requests; retry in ${retryAfterSeconds} s`, headers, { retryAfterSeconds });
  }
}

/**
 * Code `overloaded` (503): the engine is behind — its event loop runs late or its commit queue is
 * deep — so new work is refused until it catches up; `Retry-After` says when to try again. Only
 * operations that add new work are refused this way (docs/server.md, "Back-pressure").
 */
export class OverloadedError extends WeftHttpError {
  constructor(reason: string, retryAfterSeconds: number) {
    super(
      'overloaded',
      `The server is behind (${reason.replaceAll('_', ' ')}) and refuses new work for now; retry in ${retryAfterSeconds} s`,
      { 'retry-after': String(retryAfterSeconds) },
      { reason, retryAfterSeconds },
    );
  }
}

/** 400: a subscription method called where there is no socket to send its notifications on. */
export class WebSocketRequiredError extends WeftError {
  constructor(method: string) {
    super(
      'websocket_required',
      `${clip(method)} sends notifications: call it on a WebSocket session of /api/jsonrpc, not over HTTP`,
      { details: { method: clip(method) } },
    );
  }
}

/** 400: a fleet event subscription whose cursor is further behind than a replay may reach. */
export class ReplayWindowTooLargeError extends WeftError {
  constructor(after: number, limit: number) {
    super(
      'replay_window_too_large',
      `More than ${limit} retained events follow seq ${after}: page through GET /api/v1/events (weft.events.list) first, then subscribe from the last seq read`,
      { details: { after, limit } },
    );
  }
}

/** 429: a principal (or client address) already holds as many real-time connections as allowed. */
export class TooManyConnectionsError extends WeftError {
  constructor(limit: number) {
    super('too_many_connections', `This caller already holds ${limit} real-time connections, the most allowed`, {
      details: { limit },
    });
  }
}

/** 429: a WebSocket session already holds as many subscriptions (or calls in flight) as it may. */
export class TooManySubscriptionsError extends WeftError {
  constructor(what: 'subscriptions' | 'calls in flight', limit: number) {
    super('too_many_subscriptions', `This socket already holds ${limit} ${what}, the most allowed`, {
      details: { limit, what },
    });
  }
}

/** 426 `upgrade_required`: a real-time route reached without `Upgrade: websocket` (or SSE `Accept` where offered). */
export class UpgradeRequiredError extends WeftHttpError {
  constructor(path: string, alternatives: string) {
    super(
      'upgrade_required',
      `${clip(path)} is a real-time feed: ${alternatives}`,
      { upgrade: 'websocket' },
      {
        path: clip(path),
      },
    );
  }
}
