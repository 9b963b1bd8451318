/**
 * MCP over Streamable HTTP at `/api/mcp` (`POST` messages, `GET` the server's event stream,
 * `DELETE` the session), on the SDK's web-standard transport, so it stays inside `handleRequest`'s
 * `Request → Response` and needs nothing from Bun.
 *
 * A session (`Mcp-Session-Id`) is made by an `initialize` request and belongs to the principal who
 * made it: another principal presenting its id is answered as if it did not exist (404), so a
 * leaked session id is worth nothing without the credential. Sessions are bounded: past
 * `MAX_SESSIONS` the one idle longest is closed, and a session idle for `SESSION_IDLE_MS` is closed
 * when the next one is made.
 */
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Engine } from '../../engine/engine.ts';
import type { Scope } from '../../protocol/operation-spec.ts';
import type { OperationContext } from '../catalog.ts';
import type { AccessGate, GateRequest, Identity } from '../security/access-gate.ts';
import { ForbiddenError } from '../server-errors.ts';
import { createMcpServer } from './mcp-server.ts';

/** Most MCP sessions one server keeps. */
export const MAX_SESSIONS = 1000;
/** A session unused this long is closed, ms (30 min). */
export const SESSION_IDLE_MS = 30 * 60_000;
/** Interval of the keep-alive comment on a quiet MCP event stream, ms. */
const KEEP_ALIVE_MS = 15_000;

interface Session {
  transport: WebStandardStreamableHTTPServerTransport;
  subject: string | undefined;
  lastUsed: number;
}

/** Who is calling, as the SDK hands it to each request handler (`extra.authInfo.extra`). */
interface Caller {
  identity: Identity;
  gateRequest: Omit<GateRequest, 'calls'>;
}

/** One MCP HTTP request, authenticated. */
export interface McpRequest {
  request: Request;
  engine: Engine;
  gate: AccessGate | undefined;
  identity: Identity;
  gateRequest: Omit<GateRequest, 'calls'>;
  context: Omit<OperationContext, 'signal'>;
  maxBodyBytes: number;
}

export class McpSessions {
  readonly #sessions = new Map<string, Session>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Answers one request to `/api/mcp`. */
  async handle(call: McpRequest): Promise<Response> {
    const { request } = call;
    const subject = call.identity?.principal.subject;
    const authInfo = {
      token: '',
      clientId: subject ?? 'anonymous',
      scopes: call.identity?.principal.scopes ?? [],
      extra: { identity: call.identity, gateRequest: call.gateRequest } satisfies Caller,
    };
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId !== null) {
      const session = this.#sessions.get(sessionId);
      if (session === undefined || session.subject !== subject) return sessionNotFound();
      session.lastUsed = this.#now();
      return session.transport.handleRequest(request, { authInfo });
    }
    this.#expire();
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      onsessioninitialized: (id) => {
        this.#sessions.set(id, { transport, subject, lastUsed: this.#now() });
      },
      onsessionclosed: (id) => {
        this.#sessions.delete(id);
      },
      keepAliveMs: KEEP_ALIVE_MS,
      maxRequestBodySize: call.maxBodyBytes,
    });
    const server = createMcpServer(call.engine, {
      context: call.context,
      authorize: (method, scope, info) => authorize(call.gate, method, scope, info),
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) this.#sessions.delete(transport.sessionId);
      void server.close();
    };
    await server.connect(transport);
    const response = await transport.handleRequest(request, { authInfo });
    // Not an initialize (the transport refused it): nothing to keep.
    if (transport.sessionId === undefined || !this.#sessions.has(transport.sessionId)) await server.close();
    return response;
  }

  /** Closes every session (server stop). */
  async closeAll(): Promise<void> {
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.all(sessions.map((session) => session.transport.close()));
  }

  /** Closes sessions idle past `SESSION_IDLE_MS`, and the idlest while there are too many. */
  #expire(): void {
    const now = this.#now();
    const byAge = [...this.#sessions.entries()].sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    let excess = this.#sessions.size - (MAX_SESSIONS - 1);
    for (const [id, session] of byAge) {
      if (now - session.lastUsed < SESSION_IDLE_MS && excess <= 0) break;
      excess -= 1;
      this.#sessions.delete(id);
      void session.transport.close();
    }
  }
}

/** A call's scope check (and its audit and rate limit count) with the identity of the HTTP request it came in. */
function authorize(gate: AccessGate | undefined, method: string, scope: Scope, info: unknown): void {
  if (gate === undefined) return;
  const caller = (info as { extra?: Caller } | undefined)?.extra;
  if (caller === undefined) throw new ForbiddenError(method, scope);
  const admission = gate.decide({ ...caller.gateRequest, calls: [{ method, scope }] }, caller.identity);
  if (!admission.allows(scope)) throw new ForbiddenError(method, scope);
}

function sessionNotFound(): Response {
  return Response.json(
    { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null },
    { status: 404 },
  );
}
