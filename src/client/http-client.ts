/**
 * `HttpClient`: every operation of the catalog as a typed method over Weft's REST API. Inputs and
 * outputs are the specs' own types (protocol/operations.ts), so a field the server would refuse
 * is a type error here, and an error the server answers arrives as a `WeftError` with the same
 * `code` the engine would have thrown in-process.
 *
 * Beside them, the three real-time feeds — `watch(id)`, `stream(id)`, `events()` — as async
 * iterables that reconnect and resume by themselves (follow-feed.ts says how).
 *
 * Trap it avoids: a client that drifts from the server. Requests are built from the same specs the
 * server routes by, and a type check at the bottom of this file fails when an operation has no
 * method.
 */
import { InvalidArgumentError } from '../core/errors.ts';
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
import type { ChunkFrame, EventFrame, WatchFrame } from '../protocol/realtime.ts';
import { followFeed, type FeedSource, type FollowOptions } from './follow-feed.ts';
import { readResponse } from './read-response.ts';
import { REST_PREFIX, restRequest } from './rest-request.ts';

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

/**
 * Options of `watch`, `stream` and `events`: where to resume (`after`), what stops the feed
 * (`signal`), how it reconnects, and headers for its requests over the client's.
 *
 * @example
 * for await (const chunk of client.stream(id, { after: lastSeq, signal: controller.signal })) render(chunk.data);
 */
export interface FeedOptions extends FollowOptions {
  /** Headers for this feed's requests, over the client's. */
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
    return (await readResponse(spec.name, response)) as Out<S>;
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

  /**
   * `GET /api/v1/workflows/:id/watch` as Server-Sent Events: the run's state changes, one frame
   * per change, ending after its terminal one (`completed`, `failed`, `cancelled`, `timed_out`).
   * Reconnects by itself (network errors, server restarts) from the last `seq` it yielded: no gap,
   * no duplicate. An unknown run throws `workflow_not_found`; aborting `signal` just ends the loop.
   * Nothing is sent until iterated; each `for await` opens its own connection from `after`.
   *
   * @example
   * for await (const frame of client.watch('order-1')) console.log(frame.seq, frame.type, frame.status);
   */
  watch(id: string, options: FeedOptions = {}): AsyncIterable<WatchFrame> {
    return followFeed(this.#runFeed(id, 'watch', options), options);
  }

  /**
   * `GET /api/v1/workflows/:id/stream` as Server-Sent Events: the run's token chunks (what
   * `ctx.stream.write` and `actx.stream.write` wrote), ending once the run ended. Reconnects and
   * resumes like `watch`; needs the `streams:read` scope.
   *
   * @example
   * for await (const { data } of client.stream(id)) process.stdout.write(String(data));
   */
  stream(id: string, options: FeedOptions = {}): AsyncIterable<ChunkFrame> {
    return followFeed(this.#runFeed(id, 'stream', options), options);
  }

  /**
   * `GET /api/v1/events` as Server-Sent Events: fleet events as they happen; it never ends by
   * itself (stop it with `signal` or `break`). Without `after` it starts at the live tail — a
   * reconnect before the first event may then miss events, so pass `after` (e.g. the last `seq`
   * of `listEvents`) to see every one. A cursor more than 1,000 retained events behind throws
   * `replay_window_too_large`: page with `listEvents` first.
   *
   * @example
   * for await (const event of client.events({ signal })) if (event.type === 'workflow:failed') alert(event.workflowId);
   */
  events(options: FeedOptions = {}): AsyncIterable<EventFrame> {
    const feed = { name: 'events()', path: `${REST_PREFIX}/events`, frameEvent: 'event', ends: false };
    return followFeed(this.#feedSource(feed, options), options);
  }

  #runFeed(id: string, kind: 'watch' | 'stream', options: FeedOptions): FeedSource {
    if (typeof id !== 'string' || id === '') {
      throw new InvalidArgumentError(`${kind} needs the run's id (a non-empty string)`);
    }
    const name = `${kind}(${JSON.stringify(id.length > 64 ? `${id.slice(0, 64)}…` : id)})`;
    const path = `${REST_PREFIX}/workflows/${encodeURIComponent(id)}/${kind}`;
    return this.#feedSource({ name, path, frameEvent: kind === 'watch' ? 'watch' : 'chunk', ends: true }, options);
  }

  /** The feed at `path` (under the base URL) with the client's headers and `fetch`, and `options.headers` over them. */
  #feedSource(
    feed: Omit<FeedSource, 'url' | 'headers' | 'fetch'> & { path: string },
    options: FeedOptions,
  ): FeedSource {
    const { path, ...rest } = feed;
    const headers = new Headers(this.#headers);
    for (const [header, value] of new Headers(options.headers)) headers.set(header, value);
    return { ...rest, url: `${this.#base}${path}`, headers, fetch: this.#fetch };
  }
}

/** Every exported spec of protocol/operations.ts by its export name. */
type CatalogSpecName = {
  [K in keyof typeof catalog]: (typeof catalog)[K] extends OperationSpec ? K : never;
}[keyof typeof catalog];
/** Compile-time check: every catalog operation has an `HttpClient` method of the same name. */
type MissingMethods = Exclude<CatalogSpecName, keyof HttpClient>;
const _everyOperationHasAMethod: [MissingMethods] extends [never] ? true : MissingMethods = true;
void _everyOperationHasAMethod;
