/**
 * `createServerSecurity({ auth, rateLimit, cors, allowedHosts })`: the security layer of one server,
 * compiled once — the access gate (authentication, audit, rate limit, scopes), the CORS policy and
 * the host policy (which `Host` names are answered). `serve()`
 * builds it from its options; an embedder of `handleRequest` builds it once and passes it in every
 * call as `options.security` (the rate limiter's counters live in it).
 *
 * Every configuration error throws `InvalidArgumentError` here, before a server binds.
 */
import type { AuthConfig } from './auth-config.ts';
import { AccessGate } from './access-gate.ts';
import { compileCorsPolicy, type CorsOptions, type CorsPolicy } from './cors.ts';
import { compileHostPolicy, type HostPolicy } from './host-policy.ts';
import type { RateLimitOptions } from './rate-limiter.ts';

/** The security options `serve()` and `createServerSecurity` take. */
export interface SecurityOptions {
  auth?: AuthConfig;
  rateLimit?: RateLimitOptions;
  cors?: CorsOptions;
  /**
   * More `Host` names to answer besides loopback ones (and the bound address). With it, a request
   * naming any other host is refused with 403 `host_not_allowed`; an entry starting with a dot
   * matches a domain and its subdomains. See `listenHostname`.
   */
  allowedHosts?: readonly string[];
  /**
   * The address the server listens on (`serve()` passes its `hostname`). A loopback address turns
   * the host policy on even without `allowedHosts`: only loopback names are answered.
   */
  listenHostname?: string;
  /** The clock of the rate limiter and audit timestamps (tests). */
  now?: () => number;
}

/** A compiled security layer. */
export interface ServerSecurity {
  readonly gate: AccessGate;
  /** `undefined` when no `cors` was configured: no `Access-Control-*` header is ever sent. */
  readonly cors: CorsPolicy | undefined;
  /** `undefined` when every `Host` is answered (not bound to loopback, no `allowedHosts`). */
  readonly hosts: HostPolicy | undefined;
}

/**
 * Compiles the security options of one server.
 *
 * @example
 * import { createServerSecurity, handleRequest } from '@lostgradient/weft/server/handler';
 * const security = createServerSecurity({ auth: { apiKeys: [key] }, rateLimit: { maxRequests: 100, windowMs: 60_000 } });
 * export default { fetch: (request: Request) => handleRequest(request, engine, { security }) };
 */
export function createServerSecurity(options: SecurityOptions): ServerSecurity {
  const gate = new AccessGate({
    ...(options.auth === undefined ? {} : { auth: options.auth }),
    ...(options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const cors =
    options.cors === undefined ? undefined : compileCorsPolicy(options.cors, { authConfigured: gate.authConfigured });
  const hosts = compileHostPolicy({
    ...(options.listenHostname === undefined ? {} : { listenHostname: options.listenHostname }),
    ...(options.allowedHosts === undefined ? {} : { allowedHosts: options.allowedHosts }),
  });
  return { gate, cors, hosts };
}
