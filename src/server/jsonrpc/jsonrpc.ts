/**
 * JSON-RPC 2.0 over the operation catalog (`POST /api/jsonrpc`): every catalog operation is a
 * method of the same name, its input the by-name params, validated by the same schema and run by
 * the same handler as over REST. `rpc.discover` answers the OpenRPC document.
 *
 * The HTTP handler parses the body (JSON or MessagePack) and hands the value here; a body it
 * cannot parse is answered with `jsonRpcParseError()`.
 *
 * Trap it avoids: one bad call sinking a batch. Each call is read, validated and run on its own
 * and every failure becomes that call's error response; nothing here throws.
 */
import type { Engine } from '../../engine/engine.ts';
import type { Scope } from '../../protocol/operation-spec.ts';
import { httpStatusOf, JsonRpcCode, jsonRpcCodeOf, toWireError } from '../../protocol/wire-errors.ts';
import { subscriptionMethods, type SubscriptionMethod } from '../../protocol/realtime.ts';
import { Accepted, catalog, type OperationContext } from '../catalog.ts';
import { openRpcDocument } from '../discovery/documents.ts';
import { isPlainObject, parseOperationInput, parseWith } from '../operation-input.ts';
import { InvalidParamsError, MethodNotFoundError, WebSocketRequiredError } from '../server-errors.ts';
import type { GuardedCall } from '../security/access-gate.ts';
import { JSON_RPC_MAX_BATCH } from './limits.ts';

/**
 * A request id: what the client sent, echoed in the response; `null` when it could not be read.
 * A number is an integer of at most `2^53 - 1` in magnitude: the only numbers that come back
 * exactly as they were written (see `isId`).
 */
export type JsonRpcId = string | number | null;

/** `error.data` of every Weft JSON-RPC error: the Weft code, its HTTP status, and details. */
export interface JsonRpcErrorData {
  code: string;
  status: number;
  details?: Record<string, unknown>;
}

/** A JSON-RPC error object. */
export interface JsonRpcError {
  code: number;
  message: string;
  data: JsonRpcErrorData;
}

/** One JSON-RPC response: a `result` or an `error`, never both. */
export type JsonRpcResponse =
  { jsonrpc: '2.0'; id: JsonRpcId; result: unknown } | { jsonrpc: '2.0'; id: JsonRpcId; error: JsonRpcError };

/** The method every OpenRPC server answers with its document. */
const DISCOVER = 'rpc.discover';

/** The subscription methods by name: a WebSocket session answers them, HTTP refuses them. */
const SUBSCRIPTION_METHODS: ReadonlyMap<string, SubscriptionMethod> = new Map(
  subscriptionMethods.map((method) => [method.name, method]),
);

/**
 * The subscription methods of one WebSocket session, by name: each gets its validated params and
 * answers its result (see protocol/realtime.ts). Without them (HTTP) those methods fail with
 * `websocket_required`.
 */
export type SessionMethods = ReadonlyMap<string, (params: Record<string, unknown>) => Promise<unknown>>;

/**
 * Answers a parsed JSON-RPC body: a response for a call, an array of responses (in request order,
 * notifications left out) for a batch, `undefined` when there is nothing to answer (a notification,
 * or a batch of notifications only). A batch runs its calls concurrently and may hold at most
 * `JSON_RPC_MAX_BATCH` calls.
 *
 * @example
 * const answer = await handleJsonRpc({ jsonrpc: '2.0', id: 1, method: 'weft.workflows.get', params: { id: 'o-1' } }, engine, context);
 * return answer === undefined ? new Response(null, { status: 204 }) : Response.json(answer);
 */
export async function handleJsonRpc(
  body: unknown,
  engine: Engine,
  context: OperationContext,
  authorize: Authorize = () => undefined,
  session?: SessionMethods,
): Promise<JsonRpcResponse | JsonRpcResponse[] | undefined> {
  const run: Runner = { engine, context, authorize, session };
  if (!Array.isArray(body)) return answer(body, run);
  if (body.length === 0) return failure(null, invalidRequest('An empty batch is not a request'));
  if (body.length > JSON_RPC_MAX_BATCH) {
    return failure(
      null,
      invalidRequest(`A batch may hold at most ${JSON_RPC_MAX_BATCH} calls, not ${body.length}`, {
        limit: JSON_RPC_MAX_BATCH,
        size: body.length,
      }),
    );
  }
  const answers = await Promise.all(body.map((call) => answer(call, run)));
  const responses = answers.filter((response) => response !== undefined);
  return responses.length === 0 ? undefined : responses;
}

/**
 * The response to a body that is not valid JSON or MessagePack (-32700, id `null`).
 *
 * @example
 * try { body = JSON.parse(text) } catch { return Response.json(jsonRpcParseError()) }
 */
export function jsonRpcParseError(): JsonRpcResponse {
  return failure(null, {
    code: JsonRpcCode.parseError,
    message: 'Parse error: the body is not valid JSON or MessagePack',
    data: { code: 'bad_request', status: httpStatusOf('bad_request') },
  });
}

/** A well-formed request; `id` undefined for a notification. */
interface Call {
  id: JsonRpcId | undefined;
  method: string;
  params: Record<string, unknown> | unknown[] | undefined;
}

/**
 * Checks that the caller may run `method`, which needs `scope`; throws (`ForbiddenError`) if not.
 * Called for every non-public call after its method is found and before its params are read.
 */
export type Authorize = (method: string, scope: Scope) => void;

interface Runner {
  engine: Engine;
  context: OperationContext;
  authorize: Authorize;
  session: SessionMethods | undefined;
}

/**
 * The non-public catalog operations a body calls, one entry per call (the rate limit counts each
 * call of a batch; the audit reports each method once), for the security layer to check before
 * anything runs. Malformed calls and unknown methods are not in it: they are answered with their
 * errors and cost nothing.
 *
 * @example
 * guardedCalls([{ jsonrpc: '2.0', id: 1, method: 'weft.workflows.get', params: { id: 'a' } }]);
 * // [{ method: 'weft.workflows.get', scope: 'workflows:read' }]
 */
export function guardedCalls(body: unknown): GuardedCall[] {
  const calls: GuardedCall[] = [];
  for (const value of Array.isArray(body) ? body : [body]) {
    if (!isPlainObject(value) || typeof value['method'] !== 'string') continue;
    const scope = (catalog.get(value['method'])?.spec ?? SUBSCRIPTION_METHODS.get(value['method']))?.scope;
    if (scope !== undefined && scope !== null) calls.push({ method: value['method'], scope });
  }
  return calls;
}

/**
 * The JSON-RPC answer (id `null`) to a request turned away as a whole, e.g. by authentication.
 *
 * @example
 * return Response.json(jsonRpcErrorResponse(new UnauthenticatedError()), { status: 401 });
 */
export function jsonRpcErrorResponse(error: unknown): JsonRpcResponse {
  return failure(null, errorOf(error));
}

/**
 * The answer to a body refused as a whole without running it (a socket over its limits): `error`
 * for each call under its own id, nothing for notifications; a body that names no call at all
 * gets `error` under id `null`.
 *
 * @example
 * socket.send(JSON.stringify(jsonRpcRefusal(body, new TooManySubscriptionsError('calls in flight', 128))));
 */
export function jsonRpcRefusal(body: unknown, error: unknown): JsonRpcResponse | JsonRpcResponse[] | undefined {
  const refusal = errorOf(error);
  const refuse = (value: unknown): JsonRpcResponse | undefined => {
    const { id } = readCall(value);
    return id === undefined ? undefined : failure(id, refusal);
  };
  if (!Array.isArray(body) || body.length === 0) return refuse(body) ?? failure(null, refusal);
  const answers = body.map(refuse).filter((answer) => answer !== undefined);
  return answers.length === 0 ? undefined : answers;
}

async function answer(value: unknown, run: Runner): Promise<JsonRpcResponse | undefined> {
  const call = readCall(value);
  if (!('method' in call)) return failure(call.id, invalidRequest(call.problem));
  let result: unknown;
  try {
    result = await invoke(call, run);
  } catch (error) {
    return call.id === undefined ? undefined : failure(call.id, errorOf(error));
  }
  // A notification runs, and is never answered — not even with its error.
  return call.id === undefined ? undefined : { jsonrpc: '2.0', id: call.id, result: result ?? null };
}

async function invoke(call: Call, { engine, context, authorize, session }: Runner): Promise<unknown> {
  if (call.method === DISCOVER) {
    if (!isEmptyParams(call.params)) {
      throw new InvalidParamsError(DISCOVER, [{ path: '', message: `${DISCOVER} takes no params` }]);
    }
    return openRpcDocument(context.origin, engine);
  }
  const subscription = SUBSCRIPTION_METHODS.get(call.method);
  if (subscription !== undefined) {
    authorize(call.method, subscription.scope);
    const handle = session?.get(call.method);
    if (handle === undefined) throw new WebSocketRequiredError(call.method);
    return handle(parseWith(call.method, subscription.params, byName(call)));
  }
  const entry = catalog.get(call.method);
  if (entry === undefined) throw new MethodNotFoundError(call.method);
  if (entry.spec.scope !== null) authorize(call.method, entry.spec.scope);
  const input = parseOperationInput(entry.spec, byName(call));
  const output = await entry.handle(engine, input, context);
  // JSON-RPC has no 202: an accepted (still pending) answer is just the answer.
  return output instanceof Accepted ? (output.value as unknown) : output;
}

/** The params of a call that takes them by name; `InvalidParamsError` for positional ones. */
function byName(call: Call): Record<string, unknown> {
  if (Array.isArray(call.params)) {
    throw new InvalidParamsError(call.method, [{ path: '', message: 'params must be an object (by name)' }]);
  }
  return call.params ?? {};
}

/** Reads a request object, or says why it is not one (with the id, when that could be read). */
function readCall(value: unknown): Call | { id: JsonRpcId; problem: string } {
  if (!isPlainObject(value)) return { id: null, problem: 'A request must be an object' };
  const hasId = Object.hasOwn(value, 'id') && value['id'] !== undefined;
  const id = hasId ? value['id'] : undefined;
  if (hasId && !isId(id)) {
    return { id: null, problem: 'id must be a string, null, or an integer of at most 2^53 - 1 in magnitude' };
  }
  const echo = hasId ? (id as JsonRpcId) : null;
  if (value['jsonrpc'] !== '2.0') return { id: echo, problem: 'jsonrpc must be "2.0"' };
  const method = value['method'];
  if (typeof method !== 'string') return { id: echo, problem: 'method must be a string' };
  const params = value['params'];
  if (params !== undefined && !Array.isArray(params) && !isPlainObject(params)) {
    return { id: echo, problem: 'params must be an object or an array' };
  }
  return { id: id as JsonRpcId | undefined, method, params };
}

/**
 * Whether `value` can be echoed as the same id. JSON-RPC requires the id back unchanged, but the
 * body was parsed into doubles: `18446744073709551616` became `18446744073709552000`, a fraction
 * such as `0.1` may have been rounded, and which digits were sent is lost. Only safe integers are
 * known to print as they were written (every integer text beyond 2^53 - 1 parses to 2^53 or
 * more, which is not safe), so any other number is refused (-32600, `id: null`) rather than answered under an id
 * the client never sent. A MessagePack 64-bit integer past that range arrives as a bigint and is
 * refused the same way. Checking the parsed value costs nothing; re-reading the source text with
 * a `JSON.parse` reviver made parsing nine times slower.
 */
function isId(value: unknown): value is JsonRpcId {
  return value === null || typeof value === 'string' || Number.isSafeInteger(value);
}

function isEmptyParams(params: Call['params']): boolean {
  if (params === undefined) return true;
  return Array.isArray(params) ? params.length === 0 : Object.keys(params).length === 0;
}

function invalidRequest(problem: string, details?: Record<string, unknown>): JsonRpcError {
  const data: JsonRpcErrorData = { code: 'bad_request', status: httpStatusOf('bad_request') };
  if (details !== undefined) data.details = details;
  return { code: JsonRpcCode.invalidRequest, message: `Invalid Request: ${problem}`, data };
}

/** Anything thrown, as a JSON-RPC error: the Weft code decides the JSON-RPC code and travels in `data`. */
function errorOf(error: unknown): JsonRpcError {
  const wire = toWireError(error);
  const data: JsonRpcErrorData = { code: wire.code, status: httpStatusOf(wire.code) };
  if (wire.details !== undefined) data.details = wire.details;
  const code = error instanceof MethodNotFoundError ? JsonRpcCode.methodNotFound : jsonRpcCodeOf(wire.code);
  return { code, message: wire.message, data };
}

function failure(id: JsonRpcId, error: JsonRpcError): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error };
}
