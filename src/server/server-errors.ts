/**
 * The errors the server layer raises itself (the engine's are in core/errors.ts). Each has a
 * stable code with its HTTP status in protocol/wire-errors.ts.
 */
import { WeftError } from '../core/errors.ts';

/** Code `bad_request`: the request could not be read (malformed JSON or MessagePack, a body that is not an object). */
export class BadRequestError extends WeftError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('bad_request', message, details === undefined ? {} : { details });
  }
}

/** Code `invalid_params`: the parameters do not match the operation's schema; `details.issues` says where. */
export class InvalidParamsError extends WeftError {
  constructor(operation: string, issues: { path: string; message: string }[]) {
    const first = issues[0];
    const where = first === undefined ? '' : `: ${first.path === '' ? '' : `${first.path}: `}${first.message}`;
    super('invalid_params', `Invalid parameters for ${operation}${where}`, { details: { operation, issues } });
  }
}

/** Code `not_found`: no route matches the path. */
export class RouteNotFoundError extends WeftError {
  constructor(path: string) {
    super('not_found', `No route for ${path}`, { details: { path } });
  }
}

/** Code `method_not_allowed`: the path exists, not with this method; `details.allow` lists the methods. */
export class MethodNotAllowedError extends WeftError {
  constructor(method: string, allow: string[]) {
    super('method_not_allowed', `Method ${method} is not allowed here`, { details: { method, allow } });
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
    super('unsupported_media_type', `Content-Type '${contentType}' is not supported; send JSON or MessagePack`, {
      details: { contentType },
    });
  }
}

/** Code `result_timeout`: the run did not finish within the result endpoint's wait. */
export class ResultTimeoutError extends WeftError {
  constructor(id: string, waitedMs: number) {
    super('result_timeout', `Workflow '${id}' did not finish within ${waitedMs} ms`, { details: { id, waitedMs } });
  }
}

/** Code `update_not_found`: no update with that id. */
export class UpdateNotFoundError extends WeftError {
  constructor(updateId: string) {
    super('update_not_found', `No update with id '${updateId}'`, { details: { updateId } });
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
    super('not_found', `Method not found: ${method}`, { details: { method } });
  }
}
