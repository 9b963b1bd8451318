/**
 * Public entry of `@lostgradient/weft/server/handler`: `handleRequest` and its options, for
 * embedding Weft's HTTP API in another server, framework or a Service Worker. Re-exported by name
 * so the package surface is exactly this list.
 */
export { handleRequest } from './handler.ts';
export { DEFAULT_MAX_BODY_BYTES, DEFAULT_RESULT_TIMEOUT_MS } from './handler-options.ts';
export type { HandlerOptions, MetricsSink } from './handler-options.ts';
