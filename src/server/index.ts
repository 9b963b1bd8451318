/**
 * Public entry of `@lostgradient/weft/server`: `serve()` and its types, and the metrics it serves.
 * Re-exported by name so the package surface is exactly this list (`handleRequest` has its own
 * entry, `@lostgradient/weft/server/handler`, free of anything Bun-specific).
 *
 * @example
 * import { serve } from '@lostgradient/weft/server';
 * await using server = serve({ engine, port: 8080 });
 * console.log(`Weft server listening at ${server.url}`);
 */
export { DEFAULT_HOSTNAME, DEFAULT_PORT, serve, STOP_GRACE_MS } from './serve.ts';
export type { ServeOptions, WeftServer } from './serve.ts';
export {
  DEFAULT_MAX_COMMIT_QUEUE_DEPTH,
  DEFAULT_MAX_EVENT_LOOP_LAG_MS,
  DEFAULT_RETRY_AFTER_SECONDS,
} from './overload/overload-guard.ts';
export type { OverloadOptions } from './overload/overload-guard.ts';
export { PrometheusMetrics } from './metrics/prometheus-metrics.ts';
export type { PrometheusMetricsOptions } from './metrics/prometheus-metrics.ts';
export { MetricName } from './metrics/metric-names.ts';
export { redactCredential, redactHeaders, credentialFingerprint } from './security/redaction.ts';
export type { HeaderInput } from './security/redaction.ts';
export { createRotatingApiKeyStore } from './security/rotating-api-key-store.ts';
export type {
  RotatingApiKeyStore,
  RotatingApiKeyStoreOptions,
  RotatingKeyGrant,
} from './security/rotating-api-key-store.ts';
export { DEFAULT_AUTHENTICATED_SCOPES } from './security/auth-config.ts';
export type { AuthAuditEvent, AuthConfig, AuthFailureReason, JwtOptions, Principal } from './security/auth-config.ts';
export type { CorsOptions } from './security/cors.ts';
export type { RateLimitOptions } from './security/rate-limiter.ts';
export { AUTHENTICATION_REQUIRED_ENV, AuthenticationRequiredError } from './security/unauthenticated-access.ts';
export type { UnauthenticatedAccess } from './security/unauthenticated-access.ts';
export { DASHBOARD_ROUTES } from './dashboard.ts';
export type { DashboardRouteTarget } from './dashboard.ts';
export { DEFAULT_REALTIME_LIMITS } from './realtime/realtime-hub.ts';
export type { RealtimeLimits } from './realtime/realtime-hub.ts';
export { CloseCode, MAX_EVENT_REPLAY, Subprotocol } from '../protocol/realtime.ts';
export type { ChunkFrame, EventFrame, WatchFrame } from '../protocol/realtime.ts';
