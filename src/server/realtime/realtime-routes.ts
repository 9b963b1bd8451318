/**
 * The real-time routes of `handleRequest`: a feed (`/workflows/:id/watch`, `/workflows/:id/stream`,
 * `/events`) as a WebSocket or as Server-Sent Events, and `/api/jsonrpc` as a WebSocket. Everything
 * a request can get wrong is answered with an HTTP error before the upgrade, in this order: a
 * foreign origin (403), authentication and rate limit (401, 429), scope (403), the cursor (400), the
 * caller's connection count (429), the run (404) or a fleet cursor too far behind (400).
 *
 * The upgrade itself is the listener's (`connection.upgrade`, which `serve()` maps to Bun's): the
 * handler builds the session and hands it over, so it stays a plain `Request → Response` function.
 *
 * A credential can also come in the WebSocket subprotocol offer (`weft.auth.<base64url>`), since a
 * browser cannot set headers on a WebSocket; it is used like an `Authorization: Bearer` header and
 * never echoed or logged.
 */
import type { Engine } from '../../engine/engine.ts';
import { decodeBase64Url } from '../../core/base64url.ts';
import { Scope } from '../../protocol/operation-spec.ts';
import { Subprotocol } from '../../protocol/realtime.ts';
import type { OperationContext } from '../catalog.ts';
import type { ConnectionInfo } from '../handler-options.ts';
import { MediaType } from '../negotiation.ts';
import { OPEN_ADMISSION, type GateRequest } from '../security/access-gate.ts';
import { isForbiddenCrossOriginUpgrade } from '../security/cross-site-writes.ts';
import type { ServerSecurity } from '../security/server-security.ts';
import { BadRequestError, ForbiddenError, OriginNotAllowedError, UpgradeRequiredError } from '../server-errors.ts';
import { resumePoint } from './cursor.ts';
import { FeedSocket } from './feed-socket.ts';
import { openFeed, type FeedKind } from './feeds.ts';
import type { RealtimeHub } from './realtime-hub.ts';
import { RpcSocket } from './rpc-socket.ts';
import type { SocketSession } from './socket-port.ts';
import { sseResponse } from './sse.ts';

/** What a real-time route needs from the request's dispatch. */
export interface RealtimeCall {
  request: Request;
  url: URL;
  engine: Engine;
  hub: RealtimeHub;
  security: ServerSecurity | undefined;
  connection: ConnectionInfo;
  /** The operation context calls on a JSON-RPC socket run with (its signal is the socket's). */
  context: Omit<OperationContext, 'signal'>;
  /** Headers for the response, whatever it turns out to be (rate limit). */
  headers: Record<string, string>;
}

/** The placeholder answers to upgraded requests: the listener sends the real 101 itself. */
const upgraded = new WeakSet<Response>();

/**
 * Whether `response` stands for a request the listener upgraded (nobody sends it; metrics count a 101).
 *
 * @example
 * if (isUpgraded(response)) record(route, 101);
 */
export function isUpgraded(response: Response): boolean {
  return upgraded.has(response);
}

/** Scope and audit name of each feed. */
const FEEDS: Readonly<Record<FeedKind, { scope: Scope; method: string }>> = {
  watch: { scope: Scope.eventsRead, method: 'weft.workflows.watch' },
  stream: { scope: Scope.streamsRead, method: 'weft.workflows.stream' },
  events: { scope: Scope.eventsRead, method: 'weft.events.subscribe' },
};

/** Whether `request` asks for a WebSocket. */
export function isWebSocketUpgrade(request: Request): boolean {
  return request.headers.get('upgrade')?.trim().toLowerCase() === 'websocket';
}

/** Whether `request` asks for Server-Sent Events (`Accept: text/event-stream`). */
export function acceptsEventStream(request: Request): boolean {
  return request.headers.get('accept')?.toLowerCase().includes('text/event-stream') === true;
}

/**
 * A feed over a WebSocket (upgrade) or as SSE; a plain request is 426 (for `/events`, the caller
 * routes a plain request to the REST list instead of here).
 */
export async function serveFeed(call: RealtimeCall, kind: FeedKind, workflowId?: string): Promise<Response> {
  const { request, url, hub, connection } = call;
  const upgrade = isWebSocketUpgrade(request);
  if (!upgrade && !acceptsEventStream(request)) {
    throw new UpgradeRequiredError(url.pathname, 'open a WebSocket, or send Accept: text/event-stream');
  }
  if (upgrade) checkOrigin(call);
  const { scope, method } = FEEDS[kind];
  const gate = call.security?.gate;
  const admission =
    gate === undefined
      ? OPEN_ADMISSION
      : await gate.admit({ ...gateRequestOf(call, credentialRequest(request)), calls: [{ method, scope }] });
  Object.assign(call.headers, admission.headers);
  if (!admission.allows(scope)) throw new ForbiddenError(method, scope);
  const after = resumePoint(request, url);
  const release = hub.reserve(principalKey(admission.subject, connection.clientAddress));
  const abort = new AbortController();
  try {
    const frames = await openFeed(
      call.engine,
      { kind, ...(workflowId === undefined ? {} : { workflowId }), after },
      abort.signal,
    );
    if (!upgrade) {
      connection.keepOpen?.(Number.POSITIVE_INFINITY);
      request.signal.addEventListener('abort', () => abort.abort(), { once: true });
      return sseResponse(frames, abort, { kind, hub, release });
    }
    const { format, protocol } = socketFormat(request);
    return upgradeTo(call, new FeedSocket(frames, abort, { format, hub, route: kind, release }), protocol);
  } catch (error) {
    abort.abort();
    release();
    throw error;
  }
}

/** `/api/jsonrpc` as a WebSocket; a plain `GET` is 426. */
export async function serveRpcSocket(call: RealtimeCall): Promise<Response> {
  const { request, url, hub, connection } = call;
  if (!isWebSocketUpgrade(request)) {
    throw new UpgradeRequiredError(url.pathname, 'POST JSON-RPC requests to it, or open a WebSocket');
  }
  checkOrigin(call);
  const gate = call.security?.gate;
  const gateRequest = gateRequestOf(call, credentialRequest(request));
  const { identity, headers } =
    gate === undefined ? { identity: undefined, headers: {} } : await gate.connect(gateRequest);
  Object.assign(call.headers, headers);
  const release = hub.reserve(principalKey(identity?.principal.subject, connection.clientAddress));
  try {
    const { format, protocol } = socketFormat(request);
    const session = new RpcSocket({
      engine: call.engine,
      format,
      hub,
      gate,
      identity,
      gateRequest,
      context: call.context,
      release,
    });
    return upgradeTo(call, session, protocol);
  } catch (error) {
    release();
    throw error;
  }
}

function upgradeTo(call: RealtimeCall, session: SocketSession, protocol: string | undefined): Response {
  const upgrade = call.connection.upgrade;
  if (upgrade === undefined)
    throw new BadRequestError('This listener cannot upgrade to WebSocket; use Server-Sent Events');
  const headers: Record<string, string> = { ...call.headers };
  if (protocol !== undefined) headers['sec-websocket-protocol'] = protocol;
  if (!upgrade(session, headers)) throw new BadRequestError('Not a valid WebSocket handshake');
  const placeholder = new Response(null, { status: 200 });
  upgraded.add(placeholder);
  return placeholder;
}

function checkOrigin(call: RealtimeCall): void {
  if (isForbiddenCrossOriginUpgrade(call.request, call.url, call.security?.cors)) throw new OriginNotAllowedError();
}

function gateRequestOf(call: RealtimeCall, request: Request): Omit<GateRequest, 'calls'> {
  return { request, path: call.url.pathname, clientAddress: call.connection.clientAddress };
}

/** Connections are counted per principal when there is one, else per client address. */
function principalKey(subject: string | undefined, clientAddress: string | undefined): string {
  return subject === undefined ? `address:${clientAddress ?? 'unknown'}` : `subject:${subject}`;
}

/** The subprotocols a client offered. */
function offeredProtocols(request: Request): string[] {
  const header = request.headers.get('sec-websocket-protocol');
  if (header === null) return [];
  return header
    .split(',')
    .map((protocol) => protocol.trim())
    .filter((protocol) => protocol !== '');
}

/** The socket's encoding and the subprotocol to echo: MessagePack when offered, else JSON. */
function socketFormat(request: Request): { format: MediaType; protocol: string | undefined } {
  const offered = offeredProtocols(request);
  if (offered.includes(Subprotocol.msgpack)) return { format: MediaType.msgpack, protocol: Subprotocol.msgpack };
  if (offered.includes(Subprotocol.json)) return { format: MediaType.json, protocol: Subprotocol.json };
  return { format: MediaType.json, protocol: undefined };
}

/**
 * The request to authenticate: `request` itself, or — when it carries no credential header and
 * offers `weft.auth.<base64url>` — a copy with that credential as `Authorization: Bearer`.
 */
function credentialRequest(request: Request): Request {
  if (request.headers.has('authorization') || request.headers.has('x-api-key')) return request;
  const offer = offeredProtocols(request).find((protocol) => protocol.startsWith(Subprotocol.authPrefix));
  if (offer === undefined) return request;
  const credential = decodeBase64Url(offer.slice(Subprotocol.authPrefix.length));
  // An offer that does not decode is a credential nobody holds: it is refused like a wrong key.
  const headers = new Headers(request.headers);
  headers.set('authorization', `Bearer ${credential ?? offer}`);
  return new Request(request.url, { method: request.method, headers });
}
