/**
 * Options of `handleRequest` and the seams between its parts: the request handler (REST routes,
 * content negotiation, limits), the JSON-RPC transport, the discovery documents and the metrics.
 */

import type { NewWorkAdmission } from './overload/overload-guard.ts';
import type { McpSessions } from './mcp/mcp-sessions.ts';
import type { RealtimeHub } from './realtime/realtime-hub.ts';
import type { SocketSession } from './realtime/socket-port.ts';
import type { ServerSecurity } from './security/server-security.ts';

/**
 * Default request body limit: 1 MiB.
 *
 * @example
 * await handleRequest(request, engine, { maxBodyBytes: 4 * DEFAULT_MAX_BODY_BYTES });
 */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/**
 * How long `GET /api/v1/workflows/:id/result` waits for a run to finish: 30 s.
 *
 * @example
 * await handleRequest(request, engine, { resultTimeoutMs: DEFAULT_RESULT_TIMEOUT_MS / 2 });
 */
export const DEFAULT_RESULT_TIMEOUT_MS = 30_000;
/**
 * The longest a single request may wait for the engine: 240 s. Bun cannot keep an idle connection
 * open longer than 255 s (`idleTimeout`'s ceiling), so a wait past that would be cut with no answer;
 * `resultTimeoutMs` above it is refused at `serve()`, and an update's `timeout` above it is
 * shortened to it (the update answers 202 `pending`, as for any timeout; poll `GET /updates/:id`).
 *
 * @example
 * serve({ engine, resultTimeoutMs: MAX_WAIT_MS });
 */
export const MAX_WAIT_MS = 240_000;

/**
 * Options of `handleRequest(request, engine, options)`.
 *
 * @example
 * const response = await handleRequest(request, engine, { maxBodyBytes: 256 * 1024 });
 */
export interface HandlerOptions {
  /** Largest accepted request body in bytes; larger is 413 `request_too_large`. Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * How long the result route waits before answering 408, and how long an update sent without a
   * `timeout` waits before answering 202 `pending`. Default 30 s; at most `MAX_WAIT_MS`.
   */
  resultTimeoutMs?: number;
  /** Where request counts and latencies go, and what `GET /v1/metrics` serves. */
  metrics?: MetricsSink;
  /**
   * Authentication, audit, rate limit and CORS (`createServerSecurity`). Build it once and pass the
   * same object to every call: the rate limiter counts in it. Without it every operation is open.
   */
  security?: ServerSecurity;
  /**
   * Back-pressure (`OverloadGuard`, which `serve()` builds from its `overload` option): starts are
   * refused with 503 `overloaded` and `Retry-After` while it says the engine is behind. Without it
   * nothing is refused.
   */
  overload?: NewWorkAdmission;
  /**
   * The real-time state of the server (`createRealtimeHub`): limits, connections per caller,
   * metrics. Build it once and pass the same object to every call. Without it, feeds use the
   * default limits and connections per caller are not counted across requests.
   */
  realtime?: RealtimeHub;
  /**
   * The MCP sessions of `/api/mcp` (`new McpSessions()`); `serve()` keeps one per server and closes
   * them on stop. Without it, sessions are kept per engine.
   */
  mcp?: McpSessions;
}

/**
 * What the listener knows about the connection a request came on.
 *
 * @example
 * Bun.serve({ fetch: (request, server) => handleRequest(request, engine, options, { clientAddress: server.requestIP(request)?.address }) });
 */
export interface ConnectionInfo {
  /** The peer's address: the rate limit key of callers without a principal. */
  clientAddress?: string;
  /**
   * Called before the request waits up to `ms` with nothing to send (a result or update long-poll),
   * so a listener with an idle timeout keeps the connection open until the wait ends with its own
   * answer. `serve()` maps it to Bun's `server.timeout(request, seconds)`.
   */
  keepOpen?: (ms: number) => void;
  /**
   * Upgrades the request to a WebSocket run by `session`, answering with `headers` (the chosen
   * subprotocol, rate limit headers); false when the request is not a valid handshake. Without
   * it, WebSocket routes answer 400 and only Server-Sent Events are offered. `serve()` maps it to
   * Bun's `server.upgrade`.
   */
  upgrade?: (session: SocketSession, headers: Record<string, string>) => boolean;
}

/**
 * What the handler needs from the metrics (implemented with OpenTelemetry in server/metrics/).
 *
 * @example
 * const metrics: MetricsSink = {
 *   recordRequest: (route, method, status, ms) => console.log(route, method, status, ms),
 *   render: async () => '',
 * };
 * await handleRequest(request, engine, { metrics });
 */
export interface MetricsSink {
  /** One finished HTTP request: the route pattern (not the raw path), method, status, duration. */
  recordRequest(route: string, method: string, status: number, durationMs: number): void;
  /** The Prometheus text exposition of everything collected. */
  render(): Promise<string>;
}
