/**
 * Options of `handleRequest` and the seams between its parts: the request handler (REST routes,
 * content negotiation, limits), the JSON-RPC transport, the discovery documents and the metrics.
 */

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
 * Options of `handleRequest(request, engine, options)`.
 *
 * @example
 * const response = await handleRequest(request, engine, { maxBodyBytes: 256 * 1024 });
 */
export interface HandlerOptions {
  /** Largest accepted request body in bytes; larger is 413 `request_too_large`. Default 1 MiB. */
  maxBodyBytes?: number;
  /** How long the result route waits before answering 408. Default 30 s. */
  resultTimeoutMs?: number;
  /** Where request counts and latencies go, and what `GET /v1/metrics` serves. */
  metrics?: MetricsSink;
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
