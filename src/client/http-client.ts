/**
 * `HttpClient`: every operation of the catalog as a typed method over Weft's REST API. Inputs and
 * outputs are the specs' own types (protocol/operations.ts), so a field the server would refuse
 * is a type error here, and an error the server answers arrives as a `WeftError` with the same
 * `code` the engine would have thrown in-process.
 *
 * Trap it avoids: a client that drifts from the server. Requests are built from the same specs the
 * server routes by, and a type check at the bottom of this file fails when an operation has no
 * method.
 */
import { WeftError } from '../core/errors.ts';
import type { OperationInput, OperationOutput, OperationSpec } from '../protocol/operation-spec.ts';
import type * as catalog from '../protocol/operations.ts';
import {
  aggregateWorkflows,
  cancelWorkflow,
  deleteWorkflow,
  getAttributes,
  getUpdate,
  getWorkflow,
  health,
  listEvents,
  listWorkflows,
  queryWorkflow,
  setAttributes,
  signalWorkflow,
  startWorkflow,
  updateWorkflow,
  workflowResult,
} from '../protocol/operations.ts';
import { fromWireError, type WireError } from '../protocol/wire-errors.ts';
import { restRequest } from './rest-request.ts';

/**
 * Sends one request; `fetch` itself, or anything with its shape (such as `handleRequest` bound to an engine).
 *
 * @example
 * const local: FetchFunction = (request) => handleRequest(request, engine);
 */
export type FetchFunction = (request: Request) => Promise<Response>;

/**
 * Headers as `new Headers(init)` takes them: an object, pairs, or a `Headers`.
 *
 * @example
 * const headers: HeaderValues = { 'x-request-id': 'r-1' };
 */
export type HeaderValues = ConstructorParameters<typeof Headers>[0];

/**
 * Options of `new HttpClient(options)`.
 *
 * @example
 * const client = new HttpClient({ baseUrl: server.url, credential: process.env.WEFT_API_KEY, headers: { 'x-tenant': 'acme' } });
 */
export interface HttpClientOptions {
  /** The server's URL, e.g. `server.url` or `'http://127.0.0.1:3000'` (a path prefix is kept). */
  baseUrl: string | URL;
  /** How requests are sent. Default: the global `fetch`. */
  fetch?: FetchFunction;
  /** Headers sent with every request. */
  headers?: HeaderValues;
  /**
   * An API key or a JWT, sent as `Authorization: Bearer <credential>` with every request (unless
   * `headers` sets `Authorization` itself).
   */
  credential?: string;
}

/**
 * Per-call options.
 *
 * @example
 * await client.workflowResult({ id }, { signal: AbortSignal.timeout(5_000) });
 */
export interface CallOptions {
  /** Aborts the request (the server stops waiting, e.g. for a result). */
  signal?: AbortSignal;
  /** Headers for this call, over the client's. */
  headers?: HeaderValues;
}

type In<S extends OperationSpec> = OperationInput<S>;
type Out<S extends OperationSpec> = OperationOutput<S>;

/**
 * A typed client of a Weft server's REST API. Each method is one catalog operation, named as in
 * `protocol/operations.ts`; `call(spec, input)` reaches any operation by its spec.
 *
 * @example
 * const client = new HttpClient({ baseUrl: 'http://127.0.0.1:3000' });
 * const { id } = await client.startWorkflow({ type: 'order', input: { sku: 'book' } });
 * const { result } = await client.workflowResult({ id }); // waits up to 30 s
 */
export class HttpClient {
  readonly #base: string;
  readonly #fetch: FetchFunction;
  readonly #headers: Headers;

  constructor(options: HttpClientOptions) {
    this.#base = String(options.baseUrl).replace(/\/+$/, '');
    this.#fetch = options.fetch ?? ((request) => fetch(request));
    this.#headers = new Headers(options.headers);
    if (options.credential !== undefined && !this.#headers.has('authorization')) {
      this.#headers.set('authorization', `Bearer ${options.credential}`);
    }
  }

  /**
   * Calls the operation `spec` with `input`: 2xx answers resolve with the body (202 ones too —
   * check their `status`), 204 with `null`, and error answers reject with a `WeftError` carrying
   * the server's `code`, `message` and `details` (plus `details.status`, the HTTP status).
   *
   * @example
   * import { getWorkflow } from '@lostgradient/weft/client';
   * const state = await client.call(getWorkflow, { id: 'order-1' });
   */
  async call<S extends OperationSpec>(spec: S, input: In<S>, options: CallOptions = {}): Promise<Out<S>> {
    const { method, path, body } = restRequest(spec, input);
    const headers = new Headers(this.#headers);
    for (const [name, value] of new Headers(options.headers)) headers.set(name, value);
    if (!headers.has('accept')) headers.set('accept', 'application/json');
    if (body !== undefined) headers.set('content-type', 'application/json');
    const request = new Request(`${this.#base}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    const response = await this.#fetch(request);
    return (await readResponse(spec, response)) as Out<S>;
  }

  /** `GET /api/v1/health`: `{ status: 'ok' }` while the server is up. */
  health(options?: CallOptions): Promise<Out<typeof health>> {
    return this.call(health, {}, options);
  }

  /** `POST /api/v1/workflows`: starts a run; `{ id }`. A taken id rejects with code `workflow_already_exists`. */
  startWorkflow(input: In<typeof startWorkflow>, options?: CallOptions): Promise<Out<typeof startWorkflow>> {
    return this.call(startWorkflow, input, options);
  }

  /** `GET /api/v1/workflows`: a page of run summaries, newest first, with the filter's `total`. */
  listWorkflows(filter: In<typeof listWorkflows> = {}, options?: CallOptions): Promise<Out<typeof listWorkflows>> {
    return this.call(listWorkflows, filter, options);
  }

  /** `GET /api/v1/workflows/aggregate`: run counts grouped by status, type, failure category or an attribute. */
  aggregateWorkflows(
    input: In<typeof aggregateWorkflows>,
    options?: CallOptions,
  ): Promise<Out<typeof aggregateWorkflows>> {
    return this.call(aggregateWorkflows, input, options);
  }

  /** `GET /api/v1/workflows/:id`: a run's state. An unknown id rejects with code `workflow_not_found`. */
  getWorkflow(input: In<typeof getWorkflow>, options?: CallOptions): Promise<Out<typeof getWorkflow>> {
    return this.call(getWorkflow, input, options);
  }

  /**
   * `GET /api/v1/workflows/:id/result`: waits up to 30 s for the run's `{ result }`. Rejects with
   * `result_timeout` when it is still running, `workflow_failed` / `workflow_cancelled` /
   * `workflow_timed_out` when it ended otherwise.
   */
  workflowResult(input: In<typeof workflowResult>, options?: CallOptions): Promise<Out<typeof workflowResult>> {
    return this.call(workflowResult, input, options);
  }

  /** `DELETE /api/v1/workflows/:id`: cancels the run if unfinished and deletes everything stored about it. */
  deleteWorkflow(input: In<typeof deleteWorkflow>, options?: CallOptions): Promise<Out<typeof deleteWorkflow>> {
    return this.call(deleteWorkflow, input, options);
  }

  /** `POST /api/v1/workflows/:id/cancel`: cancels the run and keeps its record. */
  cancelWorkflow(input: In<typeof cancelWorkflow>, options?: CallOptions): Promise<Out<typeof cancelWorkflow>> {
    return this.call(cancelWorkflow, input, options);
  }

  /** `POST /api/v1/workflows/:id/signal/:name`: delivers `payload` to the run's inbox. */
  signalWorkflow(input: In<typeof signalWorkflow>, options?: CallOptions): Promise<Out<typeof signalWorkflow>> {
    return this.call(signalWorkflow, input, options);
  }

  /**
   * `POST /api/v1/workflows/:id/update/:name`: runs the workflow's update handler. Resolves with
   * `status: 'completed'` and its `result`, or `status: 'pending'` when `timeout` passed first
   * (follow it with `getUpdate`).
   */
  updateWorkflow(input: In<typeof updateWorkflow>, options?: CallOptions): Promise<Out<typeof updateWorkflow>> {
    return this.call(updateWorkflow, input, options);
  }

  /** `GET /api/v1/updates/:updateId`: an update's status, and its result or error once settled. */
  getUpdate(input: In<typeof getUpdate>, options?: CallOptions): Promise<Out<typeof getUpdate>> {
    return this.call(getUpdate, input, options);
  }

  /** `GET /api/v1/workflows/:id/attributes`: the run's search attributes. */
  getAttributes(input: In<typeof getAttributes>, options?: CallOptions): Promise<Out<typeof getAttributes>> {
    return this.call(getAttributes, input, options);
  }

  /** `PATCH /api/v1/workflows/:id/attributes`: sets attributes (`null` removes one); the attributes after. */
  setAttributes(input: In<typeof setAttributes>, options?: CallOptions): Promise<Out<typeof setAttributes>> {
    return this.call(setAttributes, input, options);
  }

  /** `POST /api/v1/workflows/:id/query/:name`: asks the run's query handler; `{ result }`. */
  queryWorkflow(input: In<typeof queryWorkflow>, options?: CallOptions): Promise<Out<typeof queryWorkflow>> {
    return this.call(queryWorkflow, input, options);
  }

  /** `GET /api/v1/events`: fleet events after the `after` cursor, oldest first. */
  listEvents(input: In<typeof listEvents> = {}, options?: CallOptions): Promise<Out<typeof listEvents>> {
    return this.call(listEvents, input, options);
  }
}

/** The body of a successful response, or the `WeftError` of a failed one. */
async function readResponse(spec: OperationSpec, response: Response): Promise<unknown> {
  if (response.status === 204) return null;
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  let body: unknown;
  let parsed = false;
  if (/^application\/(?:[\w.+-]*\+)?json/i.test(type)) {
    try {
      body = JSON.parse(text);
      parsed = true;
    } catch {
      // reported below as an unexpected response
    }
  }
  if (response.ok && parsed) return body;
  if (!response.ok && parsed && isWireError(body)) throw fromWireError(body.error, response.status);
  throw new WeftError(
    'unexpected_response',
    `${spec.name}: the server answered ${response.status} with ${parsed ? 'an unexpected body' : `'${type || 'no content type'}'`}`,
    { details: { status: response.status, contentType: type, body: text.slice(0, 1024) } },
  );
}

function isWireError(body: unknown): body is { error: WireError } {
  if (body === null || typeof body !== 'object') return false;
  const error = (body as { error?: unknown }).error;
  return (
    error !== null &&
    typeof error === 'object' &&
    typeof (error as WireError).code === 'string' &&
    typeof (error as WireError).message === 'string'
  );
}

/** Every exported spec of protocol/operations.ts by its export name. */
type CatalogSpecName = {
  [K in keyof typeof catalog]: (typeof catalog)[K] extends OperationSpec ? K : never;
}[keyof typeof catalog];
/** Compile-time check: every catalog operation has an `HttpClient` method of the same name. */
type MissingMethods = Exclude<CatalogSpecName, keyof HttpClient>;
const _everyOperationHasAMethod: [MissingMethods] extends [never] ? true : MissingMethods = true;
void _everyOperationHasAMethod;
