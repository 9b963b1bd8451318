/**
 * The state real-time connections share within one server: their limits, the count of open
 * connections per caller, the metrics they report, and the list `serve()` closes on stop. Built
 * once per server (`createRealtimeHub`) and passed to every `handleRequest` call, like the
 * security layer.
 */
import { InvalidArgumentError } from '../../core/errors.ts';
import { TooManyConnectionsError } from '../server-errors.ts';

/** Bounds of real-time connections; docs/realtime.md, "Limits". */
export interface RealtimeLimits {
  /** Largest message a client may send on a WebSocket, bytes; larger closes it with 1009. Default 1 MiB. */
  maxMessageBytes: number;
  /** Most subscriptions one JSON-RPC socket holds at once. Default 100. */
  maxSubscriptionsPerSocket: number;
  /** Most JSON-RPC calls one socket runs at once (a result wait counts until it answers). Default 128. */
  maxCallsInFlight: number;
  /** Most WebSockets and SSE streams one principal (or client address without one) holds. Default 1,024. */
  maxConnectionsPerPrincipal: number;
  /**
   * Bytes a socket may hold unsent before it counts as a slow consumer and is closed with 4008.
   * Feeds pause at a quarter of it and resume when the client has read. Default 4 MiB.
   */
  maxBufferedBytes: number;
  /** How long a paused feed waits for the client to read before closing it with 4008, ms. Default 30 s. */
  stallTimeoutMs: number;
  /** How often an SSE stream sends a comment line when it has nothing else to send, ms. Default 15 s. */
  sseHeartbeatMs: number;
  /**
   * A WebSocket quiet this long is pinged; one that answers nothing for as long again is dropped
   * (`serve()` only, Bun's `idleTimeout`), seconds. Clients answer pings by themselves, so a quiet
   * subscribed socket stays open. Default 120, at most 960.
   */
  idleTimeoutSeconds: number;
}

export const DEFAULT_REALTIME_LIMITS: Readonly<RealtimeLimits> = Object.freeze({
  maxMessageBytes: 1024 * 1024,
  maxSubscriptionsPerSocket: 100,
  maxCallsInFlight: 128,
  maxConnectionsPerPrincipal: 1024,
  maxBufferedBytes: 4 * 1024 * 1024,
  stallTimeoutMs: 30_000,
  sseHeartbeatMs: 15_000,
  idleTimeoutSeconds: 120,
});

/** What the real-time layer reports (implemented by `PrometheusMetrics`). */
export interface RealtimeMetricsSink {
  /** A WebSocket or SSE stream opened (`transport`) on `route` (`watch`, `stream`, `events`, `jsonrpc`). */
  connectionOpened(route: string, transport: 'websocket' | 'sse'): void;
  connectionClosed(route: string, transport: 'websocket' | 'sse'): void;
  /** Frames (feed frames, notifications, JSON-RPC answers) sent on `route`. */
  framesSent(route: string, count: number): void;
  /** A connection closed because its client read too slowly. */
  slowConsumerClosed(route: string): void;
}

/** A live connection the hub can end (server stop). */
export interface Closable {
  /** Ends the connection telling the client the server is going away. */
  shutdown(): void;
}

/**
 * Per-server real-time state.
 *
 * @example
 * const realtime = createRealtimeHub({ maxConnectionsPerPrincipal: 64 });
 * Bun.serve({ fetch: (request) => handleRequest(request, engine, { realtime }) });
 */
export class RealtimeHub {
  readonly limits: Readonly<RealtimeLimits>;
  readonly metrics: RealtimeMetricsSink | undefined;
  readonly #perPrincipal = new Map<string, number>();
  readonly #open = new Set<Closable>();

  constructor(limits: Partial<RealtimeLimits> = {}, metrics?: RealtimeMetricsSink) {
    this.limits = checkLimits({ ...DEFAULT_REALTIME_LIMITS, ...limits });
    this.metrics = metrics;
  }

  /**
   * Takes one connection slot of `principal`; throws `TooManyConnectionsError` when it holds all
   * of them. Call the returned function exactly once when the connection ends (or never opened).
   */
  reserve(principal: string): () => void {
    const held = this.#perPrincipal.get(principal) ?? 0;
    if (held >= this.limits.maxConnectionsPerPrincipal) {
      throw new TooManyConnectionsError(this.limits.maxConnectionsPerPrincipal);
    }
    this.#perPrincipal.set(principal, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#perPrincipal.get(principal) ?? 1) - 1;
      if (left <= 0) this.#perPrincipal.delete(principal);
      else this.#perPrincipal.set(principal, left);
    };
  }

  /** Tracks an open connection until the returned function is called. */
  track(connection: Closable): () => void {
    this.#open.add(connection);
    return () => this.#open.delete(connection);
  }

  /** Ends every open connection (server stop): sockets get 1001, SSE streams end. */
  shutdown(): void {
    for (const connection of [...this.#open]) connection.shutdown();
  }
}

/**
 * Builds the real-time state of one server; `serve()` does it from its `realtime` option.
 *
 * @example
 * const realtime = createRealtimeHub({ stallTimeoutMs: 10_000 });
 */
export function createRealtimeHub(limits?: Partial<RealtimeLimits>, metrics?: RealtimeMetricsSink): RealtimeHub {
  return new RealtimeHub(limits, metrics);
}

/** Bun's ceiling for a WebSocket's `idleTimeout`, seconds. */
const MAX_IDLE_TIMEOUT_SECONDS = 960;

function checkLimits(limits: RealtimeLimits): RealtimeLimits {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new InvalidArgumentError(`realtime.${name} must be a positive integer, not ${String(value)}`);
    }
  }
  if (limits.idleTimeoutSeconds > MAX_IDLE_TIMEOUT_SECONDS) {
    throw new InvalidArgumentError(`realtime.idleTimeoutSeconds must be at most ${MAX_IDLE_TIMEOUT_SECONDS}`);
  }
  return limits;
}
