/**
 * `handleRequest(request, engine, options)`: the whole HTTP API as a pure `Request → Response`
 * function, with nothing Bun-specific, so `serve()`, another framework or a Service Worker can put
 * it behind any listener.
 *
 * The route table is data built from the operation catalog: each spec's REST binding under
 * `/api/v1` (canonical) and `/v1`, beside the JSON-RPC endpoint, the discovery documents and the
 * metrics. Every error leaves as `{ "error": { code, message, details? } }` in the negotiated
 * format with the status of `protocol/wire-errors.ts`.
 *
 * Before routing: a `Host` that makes no URL is a 400, and with `options.security` a `Host` the host
 * policy refuses is a 403 (DNS rebinding), then a CORS preflight is answered. After routing, a
 * state-changing request from a foreign `Origin` is a 403 (cross-site writes), and every non-public
 * operation passes the access gate (authentication, audit, rate limit, scope) before its input is
 * read — for JSON-RPC, authentication comes before its body is read. Every response gets the rate
 * limit and CORS headers.
 *
 * Traps it avoids:
 * - A 500 for a caller's mistake. Routing, body reading, query mapping and validation all throw
 *   `WeftError`s with 4xx codes; only an error nobody anticipated becomes a 500 `internal`, and its
 *   message and stack stay in the server log, not the response.
 * - A long-poll cut by the listener. Before an operation waits, `connection.keepOpen(ms)` tells the
 *   listener how long (see serve.ts).
 */
import type { Engine } from '../engine/engine.ts';
import { WeftError } from '../core/errors.ts';
import type { Scope } from '../protocol/operation-spec.ts';
import { httpStatusOf, toWireError } from '../protocol/wire-errors.ts';
import { catalog, type CatalogEntry, type OperationContext } from './catalog.ts';
import { asyncApiDocument, openApiDocument, openRpcDocument } from './discovery/documents.ts';
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_RESULT_TIMEOUT_MS,
  MAX_WAIT_MS,
  type HandlerOptions,
  type MetricsSink,
  type ConnectionInfo,
} from './handler-options.ts';
import { handleJsonRpc, guardedCalls, jsonRpcErrorResponse, jsonRpcParseError } from './jsonrpc/jsonrpc.ts';
import { encodeResponse, readRequestBody, responseFormat, type MediaType } from './negotiation.ts';
import { listEvents } from '../protocol/operations.ts';
import { createRealtimeHub } from './realtime/realtime-hub.ts';
import {
  acceptsEventStream,
  isUpgraded,
  isWebSocketUpgrade,
  serveFeed,
  serveRpcSocket,
  type RealtimeCall,
} from './realtime/realtime-routes.ts';
import { MCP_PATH, mcpDiscoveryDocument } from './mcp/mcp-discovery.ts';
import { McpSessions } from './mcp/mcp-sessions.ts';
import { runRestOperation } from './rest-operation.ts';
import { RouteTable, type RouteMatch } from './route-table.ts';
import { OPEN_ADMISSION, type Admission, type GateRequest, type GuardedCall } from './security/access-gate.ts';
import { isForbiddenCrossSiteWrite } from './security/cross-site-writes.ts';
import {
  BadRequestError,
  ClientClosedRequestError,
  ForbiddenError,
  HostNotAllowedError,
  MethodNotAllowedError,
  OriginNotAllowedError,
  RouteNotFoundError,
  WeftHttpError,
} from './server-errors.ts';

/** The prefixes every REST route answers under; the first is canonical. */
export const REST_PREFIXES = ['/api/v1', '/v1'] as const;
/** Route label given to metrics for a CORS preflight (answered before routing). */
export const PREFLIGHT_ROUTE = 'preflight';
/** Route label given to metrics for a request no route matched. */
export const UNMATCHED_ROUTE = 'unmatched';
/** Content-Type of `GET /v1/metrics`: the Prometheus text exposition format. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Target =
  | { kind: 'operation'; entry: CatalogEntry }
  | { kind: 'feed'; feed: 'watch' | 'stream' }
  | { kind: 'jsonrpc' }
  | { kind: 'jsonrpc-socket' }
  | { kind: 'mcp' }
  | { kind: 'mcp-discovery' }
  | { kind: 'openapi' }
  | { kind: 'openrpc' }
  | { kind: 'asyncapi' }
  | { kind: 'metrics' };

const routeTable = new RouteTable<Target>([
  ...REST_PREFIXES.flatMap((prefix) => [
    ...[...catalog.values()].map((entry) => ({
      method: entry.spec.rest.method,
      pattern: `${prefix}${entry.spec.rest.path}`,
      target: { kind: 'operation', entry } as const,
    })),
    { method: 'GET', pattern: `${prefix}/metrics`, target: { kind: 'metrics' } as const },
    { method: 'GET', pattern: `${prefix}/workflows/:id/watch`, target: { kind: 'feed', feed: 'watch' } as const },
    { method: 'GET', pattern: `${prefix}/workflows/:id/stream`, target: { kind: 'feed', feed: 'stream' } as const },
  ]),
  { method: 'POST', pattern: '/api/jsonrpc', target: { kind: 'jsonrpc' } },
  { method: 'GET', pattern: '/api/jsonrpc', target: { kind: 'jsonrpc-socket' } },
  ...(['POST', 'GET', 'DELETE'] as const).map((method) => ({
    method,
    pattern: MCP_PATH,
    target: { kind: 'mcp' } as const,
  })),
  { method: 'GET', pattern: '/.well-known/mcp.json', target: { kind: 'mcp-discovery' } },
  { method: 'GET', pattern: '/openapi.json', target: { kind: 'openapi' } },
  { method: 'GET', pattern: '/openrpc.json', target: { kind: 'openrpc' } },
  { method: 'GET', pattern: '/asyncapi.json', target: { kind: 'asyncapi' } },
]);

/**
 * Answers one HTTP request: REST routes under `/api/v1` and `/v1`, `POST /api/jsonrpc`,
 * `GET /openapi.json`, `GET /openrpc.json` and `GET /v1/metrics`. Never throws; every failure is a
 * response with an error body.
 *
 * @example
 * import { handleRequest } from '@lostgradient/weft/server/handler';
 * const response = await handleRequest(new Request('http://local/v1/health'), engine);
 * await response.json(); // { status: 'ok' }
 */
export async function handleRequest(
  request: Request,
  engine: Engine,
  options: HandlerOptions = {},
  connection: ConnectionInfo = {},
): Promise<Response> {
  const started = performance.now();
  const format = responseFormat(request);
  const security = options.security;
  // Lower-case names, so a later value replaces an earlier one as `Headers.set` would.
  const headers: Record<string, string> = {};
  let route = UNMATCHED_ROUTE;
  let response: Response;
  // A `Host` such as `x:99999` or `a b` makes the URL unparsable: the caller's mistake, not a 500.
  const url = URL.parse(request.url);
  if (url === null) {
    response = errorResponse(new BadRequestError('The Host header is not a valid host[:port]'), request, format);
  } else if (security?.hosts?.allows(url.hostname) === false) {
    response = errorResponse(new HostNotAllowedError(url.hostname), request, format);
  } else if (security?.cors?.isPreflight(request) === true) {
    // Browsers never attach credentials to a preflight, so it is answered before authentication.
    response = security.cors.preflight(request);
    route = PREFLIGHT_ROUTE;
  } else {
    try {
      const lookup = routeTable.match(request.method, url.pathname);
      if (lookup.kind === 'not_found') throw new RouteNotFoundError(url.pathname);
      route = lookup.kind === 'found' ? lookup.route.pattern : lookup.pattern;
      if (isForbiddenCrossSiteWrite(request, url, security?.cors)) throw new OriginNotAllowedError();
      if (lookup.kind === 'method_not_allowed') {
        const error = toWireError(new MethodNotAllowedError(request.method, lookup.allow));
        response = encodeResponse({ error }, 405, format, { allow: lookup.allow.join(', ') });
      } else {
        response = await dispatch(lookup, { request, url, engine, options, format, connection, headers });
      }
    } catch (error) {
      if (error instanceof WeftHttpError) Object.assign(headers, error.responseHeaders);
      response = errorResponse(error, request, format);
    }
    response = withHeaders(response, headers);
    if (security?.cors !== undefined) response = security.cors.apply(request, response);
  }
  const status = isUpgraded(response) ? 101 : response.status;
  record(options.metrics, route, methodLabel(request.method), status, performance.now() - started);
  return response;
}

interface Dispatch {
  request: Request;
  url: URL;
  engine: Engine;
  options: HandlerOptions;
  format: MediaType;
  connection: ConnectionInfo;
  /** Headers for the response, whatever it turns out to be (rate limit, authentication challenge). */
  headers: Record<string, string>;
}

async function dispatch(match: RouteMatch<Target>, call: Dispatch): Promise<Response> {
  const { target } = match.route;
  const maxBodyBytes = call.options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  switch (target.kind) {
    case 'operation': {
      const { name, scope } = target.entry.spec;
      // The fleet events as a feed: SSE for `Accept: text/event-stream`, or a WebSocket.
      if (name === listEvents.name && (acceptsEventStream(call.request) || isWebSocketUpgrade(call.request))) {
        return serveFeed(realtimeCall(call), 'events');
      }
      if (scope !== null) {
        const admission = await admit(call, () => [{ method: name, scope }]);
        if (!admission.allows(scope)) throw new ForbiddenError(name, scope);
      }
      const outcome = await runRestOperation(target.entry, {
        request: call.request,
        url: call.url,
        params: match.params,
        engine: call.engine,
        context: contextOf(call),
        maxBodyBytes,
      });
      if (outcome.status === 204) return new Response(null, { status: 204 });
      return encodeResponse(outcome.body, outcome.status, call.format);
    }
    case 'feed':
      return serveFeed(realtimeCall(call), target.feed, match.params['id']);
    case 'jsonrpc':
      return jsonRpc(call, maxBodyBytes);
    case 'jsonrpc-socket':
      return serveRpcSocket(realtimeCall(call));
    case 'mcp':
      return mcp(call, maxBodyBytes);
    case 'mcp-discovery':
      return encodeResponse(
        mcpDiscoveryDocument(call.url.origin, call.options.security?.gate.authConfigured === true),
        200,
        call.format,
      );
    case 'openapi':
      return encodeResponse(openApiDocument(call.url.origin, call.engine), 200, call.format);
    case 'openrpc':
      return encodeResponse(openRpcDocument(call.url.origin, call.engine), 200, call.format);
    case 'asyncapi':
      return encodeResponse(asyncApiDocument(call.url.origin), 200, call.format);
    case 'metrics': {
      const metrics = call.options.metrics;
      if (metrics === undefined) throw new RouteNotFoundError(call.url.pathname);
      return new Response(await metrics.render(), { status: 200, headers: { 'content-type': METRICS_CONTENT_TYPE } });
    }
  }
}

/**
 * The security gate for the non-public operation a REST route calls (listed only when there is a
 * gate to hand it to); open when there is no security layer.
 */
async function admit(call: Dispatch, calls: () => GuardedCall[]): Promise<Admission> {
  const gate = call.options.security?.gate;
  if (gate === undefined) return OPEN_ADMISSION;
  const admission = await gate.admit({ ...gateRequestOf(call), calls: calls() });
  Object.assign(call.headers, admission.headers);
  return admission;
}

/**
 * `POST /api/jsonrpc`: limits and media types as for REST (413, 415); a body that does not parse
 * (or is empty) is the JSON-RPC parse error with status 400; a notification, or a batch of
 * notifications only, has no response body (204); every other answer is a 200 — except that a
 * request turned away by the security layer is answered with its status (401, 429; 403 for a
 * single call without the scope) and a JSON-RPC error body, and a single call refused for overload
 * gets 503 (any refused call, alone or in a batch, adds `Retry-After`).
 *
 * On a server with `auth`, the caller is authenticated from the headers before a byte of the body
 * is read: an anonymous client cannot make the server hold a body (up to `maxBodyBytes`, or a
 * connection waiting for a withheld last byte) only to be refused. Its calls — even public ones
 * such as `rpc.discover` — get 401; `GET /openrpc.json` and `GET /v1/health` stay public.
 */
async function jsonRpc(call: Dispatch, maxBodyBytes: number): Promise<Response> {
  const gate = call.options.security?.gate;
  try {
    const identity = await gate?.identify(gateRequestOf(call));
    let body: unknown;
    try {
      body = await readRequestBody(call.request, maxBodyBytes);
    } catch (error) {
      if (!(error instanceof WeftError) || error.code !== 'bad_request') throw error;
      return encodeResponse(jsonRpcParseError(), 400, call.format);
    }
    if (body === undefined) return encodeResponse(jsonRpcParseError(), 400, call.format);
    const admission = gate?.decide({ ...gateRequestOf(call), calls: guardedCalls(body) }, identity) ?? OPEN_ADMISSION;
    Object.assign(call.headers, admission.headers);
    const authorize = (method: string, scope: Scope): void => {
      if (!admission.allows(scope)) throw new ForbiddenError(method, scope);
    };
    const reply = await handleJsonRpc(body, call.engine, contextOf(call), authorize);
    if (reply === undefined) return new Response(null, { status: 204 });
    // A call turned away for load (overloaded, read_timeout) says when to retry, in a batch too;
    // alone, it also gets its 503.
    const answers = Array.isArray(reply) ? reply : [reply];
    const retryAfter = answers
      .map((answer) => ('error' in answer ? retryAfterOf(answer.error.data) : undefined))
      .find((seconds) => seconds !== undefined);
    if (retryAfter !== undefined) call.headers['retry-after'] = String(retryAfter);
    const single = Array.isArray(reply) || !('error' in reply) ? undefined : reply.error.data.code;
    const status = single !== undefined && STATUS_FORWARDED.has(single) ? httpStatusOf(single) : 200;
    return encodeResponse(reply, status, call.format);
  } catch (error) {
    if (!(error instanceof WeftHttpError)) throw error;
    Object.assign(call.headers, error.responseHeaders);
    return encodeResponse(jsonRpcErrorResponse(error), httpStatusOf(error.code), call.format);
  }
}

/**
 * `/api/mcp`: MCP over Streamable HTTP. With `auth`, every request is authenticated from its
 * headers first (401 before a session is made or a body read); each tool call is then checked
 * against the catalog scope of its operation, audited and counted like any call.
 */
async function mcp(call: Dispatch, maxBodyBytes: number): Promise<Response> {
  const gate = call.options.security?.gate;
  const gateRequest = gateRequestOf(call);
  const identity = await gate?.identify(gateRequest);
  // A POST may answer as an event stream that waits for a result; a GET is the session's stream.
  call.connection.keepOpen?.(call.request.method === 'GET' ? Number.POSITIVE_INFINITY : MAX_WAIT_MS);
  const { signal: _signal, ...context } = contextOf(call);
  return mcpSessionsOf(call).handle({
    request: call.request,
    engine: call.engine,
    gate,
    identity,
    gateRequest,
    context,
    maxBodyBytes,
  });
}

/** The MCP sessions of an engine when the caller keeps none (`serve()` does); one set per engine. */
const sessionsByEngine = new WeakMap<Engine, McpSessions>();

function mcpSessionsOf(call: Dispatch): McpSessions {
  if (call.options.mcp !== undefined) return call.options.mcp;
  let sessions = sessionsByEngine.get(call.engine);
  if (sessions === undefined) sessionsByEngine.set(call.engine, (sessions = new McpSessions()));
  return sessions;
}

/** Real-time routes share the server's hub; an embedder without one gets default limits per request. */
function realtimeCall(call: Dispatch): RealtimeCall {
  const { signal: _signal, ...context } = contextOf(call);
  return {
    request: call.request,
    url: call.url,
    engine: call.engine,
    hub: call.options.realtime ?? createRealtimeHub(),
    security: call.options.security,
    connection: call.connection,
    context,
    headers: call.headers,
  };
}

function gateRequestOf(call: Dispatch): Omit<GateRequest, 'calls'> {
  return { request: call.request, path: call.url.pathname, clientAddress: call.connection.clientAddress };
}

function contextOf(call: Dispatch): OperationContext {
  return {
    signal: call.request.signal,
    resultTimeoutMs: call.options.resultTimeoutMs ?? DEFAULT_RESULT_TIMEOUT_MS,
    keepOpen: call.connection.keepOpen ?? ignoreKeepOpen,
    origin: call.url.origin,
    ...(call.options.overload === undefined ? {} : { overload: call.options.overload }),
  };
}

/** A listener without idle timeouts of its own (or one that does not say) needs no keeping open. */
function ignoreKeepOpen(): void {}

/** `response` with `headers` added; a copy when its own headers are immutable. */
function withHeaders(response: Response, headers: Readonly<Record<string, string>>): Response {
  const entries = Object.entries(headers);
  if (entries.length === 0) return response;
  try {
    for (const [name, value] of entries) response.headers.set(name, value);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    for (const [name, value] of entries) copy.headers.set(name, value);
    return copy;
  }
}

function errorResponse(thrown: unknown, request: Request, format: MediaType): Response {
  // The client went away: nobody reads this answer, and the metrics must not count a server error.
  const error = !(thrown instanceof WeftError) && request.signal.aborted ? new ClientClosedRequestError() : thrown;
  const wire = toWireError(error);
  const status = httpStatusOf(wire.code);
  if (status === 500) console.error(`weft: ${request.method} ${request.url} failed:`, error);
  const retryAfter = retryAfterOf(wire);
  return encodeResponse(
    { error: wire },
    status,
    format,
    retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) },
  );
}

/** Codes a single JSON-RPC call answers with their own HTTP status, so proxies and plain clients see them. */
const STATUS_FORWARDED: ReadonlySet<string> = new Set(['forbidden', 'overloaded', 'read_timeout']);

/**
 * The `Retry-After` of a 503 (the server turned the call away for load: `overloaded`,
 * `read_timeout`), from the `retryAfterSeconds` its error carries; `undefined` for anything else.
 */
function retryAfterOf(error: { code: string; details?: Record<string, unknown> }): number | undefined {
  const seconds = error.details?.['retryAfterSeconds'];
  return httpStatusOf(error.code) === 503 && typeof seconds === 'number' ? seconds : undefined;
}

const KNOWN_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Methods as a metrics label: any other method a client makes up counts as `OTHER`, bounding cardinality. */
function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'OTHER';
}

function record(metrics: MetricsSink | undefined, route: string, method: string, status: number, ms: number): void {
  if (metrics === undefined) return;
  try {
    metrics.recordRequest(route, method, status, ms);
  } catch (error) {
    // A broken metrics sink must not cost the caller their answer.
    console.error('weft: metrics.recordRequest failed:', error);
  }
}
