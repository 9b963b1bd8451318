/**
 * `serve()`: the HTTP API of `handleRequest` on `Bun.serve()`, with the metrics behind
 * `GET /v1/metrics`, the security layer and an optional dashboard shell, returned as a `WeftServer`
 * handle. With dashboard.ts the only Bun-specific files of the server.
 *
 * Traps it avoids:
 * - A stop that hangs. `GET .../result` may wait 30 s for a run; `stop()` stops accepting at once,
 *   lets requests in flight finish for a short grace period, then closes what is left.
 * - An error page for a body over the limit. Bun refuses bodies over its own `maxRequestBodySize`
 *   with a bare, empty 413; that limit is lifted entirely, so the handler's limit is the only one
 *   callers meet, always with the error body. Lifting it costs no memory: the handler refuses a
 *   declared length over `maxBodyBytes` without reading, stops a streamed body the moment it
 *   passes it, and Bun applies back-pressure to a body nobody reads. (Headers past Bun's own
 *   16 KiB limit still get Bun's empty 431: that happens before any code of ours runs.)
 * - A long-poll cut with no answer. Bun closes a connection idle for `idleTimeout` seconds (10 by
 *   default, 255 at most), and a result or update wait sends nothing while it waits. The handler
 *   says before each wait how long it will be (`keepOpen`), and the connection's idle timeout is
 *   raised to cover it (`server.timeout`), so every wait ends with the server's own answer (408,
 *   202, the result) while idle keep-alive connections are still closed after 10 s.
 * - Two servers on one port. With `development: false` Bun 1.4 binds with `SO_REUSEPORT` unless
 *   told otherwise, so a second `serve()` (or `weft serve`) on a taken port would start silently
 *   and take a share of the connections; `reusePort: false` makes it fail with `EADDRINUSE`.
 * - Leaking the engine's listeners. The metrics subscribe to engine events; `stop()` detaches them,
 *   so an engine outlives any number of servers started and stopped over it.
 * - Collapse under more load than it can take. Unless `overload: false`, new starts are refused with
 *   503 while the engine is behind (overload/), so the backlog drains instead of growing.
 */
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { InvalidArgumentError } from '../core/errors.ts';
import type { Engine } from '../engine/engine.ts';
import { toWireError } from '../protocol/wire-errors.ts';
import { handleRequest } from './handler.ts';
import { DEFAULT_MAX_BODY_BYTES, MAX_WAIT_MS, type HandlerOptions } from './handler-options.ts';
import { PrometheusMetrics } from './metrics/prometheus-metrics.ts';
import { OverloadGuard, type OverloadOptions } from './overload/overload-guard.ts';
import { dashboardRoutes, type DashboardRouteTarget } from './dashboard.ts';
import type { AuthConfig } from './security/auth-config.ts';
import type { CorsOptions } from './security/cors.ts';
import type { RateLimitOptions } from './security/rate-limiter.ts';
import { createServerSecurity, type SecurityOptions } from './security/server-security.ts';
import { createRealtimeHub, type RealtimeLimits } from './realtime/realtime-hub.ts';
import type { SocketPort, SocketSession } from './realtime/socket-port.ts';
import { McpSessions } from './mcp/mcp-sessions.ts';
import { openAccessWarning, startupAccess, type UnauthenticatedAccess } from './security/unauthenticated-access.ts';

/**
 * Port `serve()` binds when none is given.
 *
 * @example
 * const server = serve({ engine, port: Number(process.env.PORT ?? DEFAULT_PORT) });
 */
export const DEFAULT_PORT = 3000;
/**
 * Address `serve()` binds when none is given: loopback only (pass `'0.0.0.0'` to accept remote clients).
 *
 * @example
 * const server = serve({ engine, hostname: process.env.HOST ?? DEFAULT_HOSTNAME });
 */
export const DEFAULT_HOSTNAME = '127.0.0.1';
/**
 * How long `stop()` lets requests in flight finish before closing their connections (2 s).
 *
 * @example
 * await server.stop(); // requests in flight get up to STOP_GRACE_MS to finish
 */
export const STOP_GRACE_MS = 2_000;
/** Bun's idle timeout of a connection with no request waiting, seconds (Bun's own default). */
const IDLE_TIMEOUT_SECONDS = 10;
/** What a waiting request's idle timeout adds to its wait, so the wait's own answer comes first. */
const KEEP_OPEN_MARGIN_SECONDS = 10;
/** Bun's ceiling for an idle timeout, seconds. */
const MAX_IDLE_TIMEOUT_SECONDS = 255;

/**
 * Options of `serve()`. Without `auth` every non-public operation is open to anyone who can
 * connect (see `unauthenticatedAccess`); docs/security.md has the whole model.
 *
 * @example
 * const server = serve({ engine, port: 8080, hostname: '0.0.0.0', auth: { apiKeys: [process.env.WEFT_API_KEY!] } });
 */
export interface ServeOptions {
  /** The engine whose workflows the API serves. The server never closes it. */
  engine: Engine;
  /** TCP port; `0` picks a free one (read it back from `server.port`). Default 3000. */
  port?: number;
  /** Address to bind. Default `'127.0.0.1'`. */
  hostname?: string;
  /** Bun's development mode (error pages with source). Default false. */
  development?: boolean;
  /**
   * The OpenTelemetry Prometheus exporter the metrics are read through; `GET /v1/metrics` serves
   * its text on this server's port. Default: one created with `preventServerStart: true` (no port
   * of its own). It must not be registered with another `MeterProvider`.
   */
  prometheusExporter?: PrometheusExporter;
  /** Largest accepted request body in bytes; larger is 413 `request_too_large`. Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * How long `GET /api/v1/workflows/:id/result` waits before 408, and an update without `timeout`
   * before 202 `pending`, in ms. Default 30 s; at most `MAX_WAIT_MS` (240 s, under Bun's 255 s
   * ceiling for keeping a quiet connection open).
   */
  resultTimeoutMs?: number;
  /**
   * Host names this server answers besides loopback ones (DNS rebinding protection). Bound to a
   * loopback address (the default), a request whose `Host` is not `localhost`, `*.localhost`,
   * `127.x.x.x` or `[::1]` gets 403 `host_not_allowed` unless its name is listed here; bound
   * elsewhere, every `Host` is answered unless this is given. `.example.com` matches subdomains.
   */
  allowedHosts?: string[];
  /** API key, JWT or custom authentication; scopes come from the operation catalog. */
  auth?: AuthConfig;
  /**
   * What to do when `auth` is omitted: `'warn'` (default) starts open with a loud warning,
   * `'allow'` starts open silently, `'reject'` throws before binding. The environment variable
   * `WEFT_SERVER_AUTHENTICATION_REQUIRED=1` acts as `'reject'` whatever this says.
   */
  unauthenticatedAccess?: UnauthenticatedAccess;
  /** Fixed-window request budget per principal (else per client address). Off by default. */
  rateLimit?: RateLimitOptions;
  /** Cross-origin policy for browser clients; omitted = same-origin only, no `Access-Control-*` header. */
  cors?: CorsOptions;
  /** An external dashboard shell, served at `/`, `/workflows`, `/workflows/*`, `/reviews`, `/workers`. */
  dashboard?: DashboardRouteTarget;
  /**
   * Back-pressure: while the event loop lags more than `maxEventLoopLagMs` (default 200) or more
   * than `maxCommitQueueDepth` commits (default 5,000) wait for `storage`, starts are refused with
   * 503 `overloaded` and `Retry-After`; everything else is still served. Pass `storage` (the one
   * the engine writes to) to watch its commit queue. On by default; `false` turns it off.
   */
  overload?: OverloadOptions | false;
  /**
   * Bounds of WebSockets and Server-Sent Events: message size, subscriptions per socket, calls in
   * flight, connections per principal, unsent bytes before a slow consumer is closed, stall time,
   * heartbeat interval (docs/realtime.md, "Limits"). Each defaults as `DEFAULT_REALTIME_LIMITS` says.
   */
  realtime?: Partial<RealtimeLimits>;
}

/**
 * A running server. `stop()` (or leaving an `await using` block) stops it; the engine stays open.
 *
 * @example
 * await using server = serve({ engine, port: 0 });
 * const response = await fetch(`${server.url}/v1/health`);
 */
export interface WeftServer extends AsyncDisposable {
  /** The bound port (the one chosen when `port: 0` was given). */
  readonly port: number;
  /** The bound address, as given (e.g. `'127.0.0.1'` or `'0.0.0.0'`). */
  readonly hostname: string;
  /**
   * Where clients reach the server, without a trailing slash: `http://127.0.0.1:3000`. For a
   * wildcard address (`0.0.0.0`, `::`) it names the loopback address instead.
   */
  readonly url: string;
  /**
   * Stops accepting connections, lets requests in flight finish (up to 2 s, then closes them) and
   * detaches the metrics from the engine. Resolves once every connection is closed; idempotent.
   */
  stop(): Promise<void>;
}

/**
 * Starts Weft's HTTP API (REST under `/api/v1` and `/v1`, JSON-RPC at `/api/jsonrpc`, the
 * discovery documents and `/v1/metrics`) on `Bun.serve()`.
 *
 * @example
 * import { serve } from '@lostgradient/weft/server';
 * const server = serve({ engine });
 * console.log(`Weft server listening at ${server.url}`);
 */
export function serve(options: ServeOptions): WeftServer {
  const { engine } = checkOptions(options);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const access = startupAccess(options.unauthenticatedAccess, { authConfigured: options.auth !== undefined });
  const security = createServerSecurity(securityOptionsOf(options));
  const routes = options.dashboard === undefined ? {} : dashboardRoutes(options.dashboard);
  // Checks its options (before binding) and starts the lag probe; stop() ends it.
  const overload = options.overload === false ? undefined : new OverloadGuard(options.overload);
  let metrics: PrometheusMetrics;
  try {
    metrics = new PrometheusMetrics(engine, {
      ...(options.prometheusExporter === undefined ? {} : { prometheusExporter: options.prometheusExporter }),
      ...(overload === undefined ? {} : { overload }),
    });
  } catch (error) {
    overload?.close();
    throw error;
  }
  let realtime;
  try {
    realtime = createRealtimeHub(options.realtime, metrics);
  } catch (error) {
    overload?.close();
    void metrics.close();
    throw error;
  }
  const mcp = new McpSessions();
  const handlerOptions: HandlerOptions = {
    maxBodyBytes,
    metrics,
    security,
    realtime,
    mcp,
    ...(overload === undefined ? {} : { overload }),
    ...(options.resultTimeoutMs === undefined ? {} : { resultTimeoutMs: options.resultTimeoutMs }),
  };
  let server: Bun.Server<SocketData>;
  try {
    server = Bun.serve({
      port: options.port ?? DEFAULT_PORT,
      hostname: options.hostname ?? DEFAULT_HOSTNAME,
      development: options.development ?? false,
      reusePort: false,
      // The handler's limit is the one callers meet, with an error body (see the header).
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      idleTimeout: IDLE_TIMEOUT_SECONDS,
      routes,
      fetch: async (request, bun) => {
        let upgraded = false;
        const response = await handleRequest(request, engine, handlerOptions, {
          clientAddress: bun.requestIP(request)?.address,
          keepOpen: (ms) => bun.timeout(request, idleTimeoutFor(ms)),
          upgrade: (session, headers) =>
            (upgraded = bun.upgrade(request, { data: { session, port: undefined }, headers })),
        });
        // Bun answers an upgraded request itself (101); a Response here would be an error.
        return upgraded ? undefined : response;
      },
      websocket: {
        maxPayloadLength: realtime.limits.maxMessageBytes,
        // The outbox bounds what is queued (socket-port.ts); Bun's own limit must not drop frames first.
        backpressureLimit: realtime.limits.maxBufferedBytes * 2,
        closeOnBackpressureLimit: true,
        // A quiet socket is pinged after this long and dropped after as long again without a pong:
        // a subscribed client (which answers by itself) stays, a dead peer goes.
        idleTimeout: realtime.limits.idleTimeoutSeconds,
        sendPings: true,
        open: (socket) => {
          const port = portOf(socket);
          socket.data.port = port;
          socket.data.session.open(port);
        },
        message: (socket, message) => socket.data.session.message(message),
        drain: (socket) => socket.data.session.drain(),
        close: (socket) => {
          if (socket.data.port !== undefined) socket.data.port.gone = true;
          socket.data.session.closed();
        },
      },
      // handleRequest never throws; this is the net under it, still in the API's error format.
      error: (error) => {
        console.error('weft: a request failed outside the handler:', error);
        return Response.json({ error: toWireError(error) }, { status: 500 });
      },
    });
  } catch (error) {
    overload?.close();
    void metrics.close();
    throw error;
  }
  const port = server.port ?? 0;
  const hostname = server.hostname ?? options.hostname ?? DEFAULT_HOSTNAME;
  const url = `http://${urlHost(hostname)}:${port}`;
  if (access === 'warn') console.warn(openAccessWarning(url));
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      // Sockets, SSE streams and MCP sessions are told the server is going away; they would hold the stop otherwise.
      realtime.shutdown();
      await mcp.closeAll();
      const drained = server.stop(false);
      const force = setTimeout(() => void server.stop(true), STOP_GRACE_MS);
      try {
        await drained;
      } finally {
        clearTimeout(force);
        overload?.close();
        await metrics.close();
      }
    })();
    return stopped;
  };
  return {
    port,
    hostname,
    url,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** What Bun keeps per WebSocket: the session, and its port once open. */
interface SocketData {
  session: SocketSession;
  port: (SocketPort & { gone: boolean }) | undefined;
}

/** A Bun WebSocket as the port sessions send through. */
function portOf(socket: Bun.ServerWebSocket<SocketData>): SocketPort & { gone: boolean } {
  const port = {
    gone: false,
    send: (message: string | Uint8Array) => (port.gone ? 0 : socket.send(message)),
    bufferedAmount: () => (port.gone ? 0 : socket.getBufferedAmount()),
    close: (code: number, reason: string) => {
      if (!port.gone) socket.close(code, reason);
    },
    terminate: () => {
      if (!port.gone) socket.terminate();
    },
  };
  return port;
}

/**
 * The idle timeout, seconds, for a request about to wait `ms` quietly: the wait plus a margin, at
 * most Bun's ceiling; 0 (none) for a response that stays open indefinitely (a Server-Sent Events
 * stream, which sends its own heartbeats).
 */
function idleTimeoutFor(ms: number): number {
  if (!Number.isFinite(ms)) return 0;
  return Math.min(MAX_IDLE_TIMEOUT_SECONDS, Math.ceil(ms / 1000) + KEEP_OPEN_MARGIN_SECONDS);
}

function checkOptions(options: ServeOptions): ServeOptions {
  if (options?.engine == null) {
    throw new InvalidArgumentError('serve({ engine }) needs an engine');
  }
  const { port, maxBodyBytes, resultTimeoutMs } = options;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    throw new InvalidArgumentError(`port must be an integer from 0 to 65535, not ${String(port)}`);
  }
  if (maxBodyBytes !== undefined && (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1)) {
    throw new InvalidArgumentError(`maxBodyBytes must be a positive integer, not ${String(maxBodyBytes)}`);
  }
  if (
    resultTimeoutMs !== undefined &&
    (!Number.isSafeInteger(resultTimeoutMs) || resultTimeoutMs < 1 || resultTimeoutMs > MAX_WAIT_MS)
  ) {
    throw new InvalidArgumentError(
      `resultTimeoutMs must be an integer from 1 to ${MAX_WAIT_MS} (a quiet connection cannot be kept open longer), not ${String(resultTimeoutMs)}`,
    );
  }
  return options;
}

function securityOptionsOf(options: ServeOptions): SecurityOptions {
  const { auth, rateLimit, cors, allowedHosts } = options;
  return {
    listenHostname: options.hostname ?? DEFAULT_HOSTNAME,
    ...(allowedHosts === undefined ? {} : { allowedHosts }),
    ...(auth === undefined ? {} : { auth }),
    ...(rateLimit === undefined ? {} : { rateLimit }),
    ...(cors === undefined ? {} : { cors }),
  };
}

/** The host part of the server's URL: loopback for a wildcard address, brackets for IPv6. */
function urlHost(hostname: string): string {
  if (hostname === '0.0.0.0' || hostname === '') return '127.0.0.1';
  if (hostname === '::' || hostname === '[::]') return '[::1]';
  return hostname.includes(':') && !hostname.startsWith('[') ? `[${hostname}]` : hostname;
}
