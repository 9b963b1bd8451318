/**
 * Public entry of `@lostgradient/weft/server/handler`: `handleRequest` and its options, for
 * embedding Weft's HTTP API in another server, framework or a Service Worker. Re-exported by name
 * so the package surface is exactly this list.
 */
export { handleRequest } from './handler.ts';
export { DEFAULT_MAX_BODY_BYTES, DEFAULT_RESULT_TIMEOUT_MS } from './handler-options.ts';
export type { HandlerOptions, MetricsSink } from './handler-options.ts';
export type { ConnectionInfo } from './handler-options.ts';
export { createServerSecurity } from './security/server-security.ts';
export type { SecurityOptions, ServerSecurity } from './security/server-security.ts';
export type { AuthAuditEvent, AuthConfig, Principal } from './security/auth-config.ts';
export type { CorsOptions } from './security/cors.ts';
export type { RateLimitOptions } from './security/rate-limiter.ts';
export { createRealtimeHub, DEFAULT_REALTIME_LIMITS, RealtimeHub } from './realtime/realtime-hub.ts';
export type { RealtimeLimits, RealtimeMetricsSink } from './realtime/realtime-hub.ts';
export type { SocketPort, SocketSession } from './realtime/socket-port.ts';
export { CloseCode, MAX_EVENT_REPLAY, Subprotocol } from '../protocol/realtime.ts';
export type { ChunkFrame, EventFrame, WatchFrame } from '../protocol/realtime.ts';
