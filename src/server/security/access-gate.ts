/**
 * The security layer in front of the operation catalog: authentication, the audit trail, the rate
 * limit and the scope check, in that order, for the non-public operations a request calls (one
 * for REST, one or more for a JSON-RPC batch). Public operations (health), the metrics and the
 * discovery documents never reach it: no credential is examined, nothing is audited or counted.
 *
 * Order of a decision:
 * 1. Authenticate the request once (when `auth` is configured).
 * 2. Audit one event per non-public operation called: success, or failure with its reason
 *    (`missing_credential`, `invalid_credential`, `expired_credential`, `insufficient_scope`).
 * 3. Count the request against the rate limit, keyed by the principal's subject when one was
 *    authenticated, else by the client address — failed attempts count too, so guessing keys is
 *    throttled like any flood. Over budget → 429 (whatever the authentication said).
 * 4. No principal → 401. Missing scope → 403, per operation (the caller throws it via `allows`).
 *
 * Without `auth` the server is open: every operation is allowed, nothing is audited, and the rate
 * limit (if set) is keyed by client address.
 */
import type { Scope } from '../../protocol/operation-spec.ts';
import { RateLimitedError, UnauthenticatedError } from '../server-errors.ts';
import { auditEmitter, type AuditEmitter } from './audit.ts';
import type { AuthConfig, Principal } from './auth-config.ts';
import { createAuthenticator, type Authentication, type Authenticator } from './authenticator.ts';
import { FixedWindowRateLimiter, rateLimitHeaders, retryAfterSeconds, type RateLimitOptions } from './rate-limiter.ts';

/** A non-public operation a request calls. */
export interface GuardedCall {
  /** Catalog method name, e.g. `weft.workflows.start`. */
  method: string;
  scope: Scope;
}

/** What the gate let through: which scopes the caller may use, and headers for the response. */
export interface Admission {
  /** Whether the admitted caller may run an operation needing `scope`. */
  allows(scope: Scope): boolean;
  /** `X-RateLimit-*` headers, when a rate limit is set. */
  headers: Record<string, string>;
}

/** The request facts the gate needs besides the request itself. */
export interface GateRequest {
  request: Request;
  /** Path without the query string, for the audit trail. */
  path: string;
  /** The client's address (rate limit key of unauthenticated callers); `undefined` when unknown. */
  clientAddress: string | undefined;
  calls: readonly GuardedCall[];
}

/** Options of `AccessGate`. `now` is for tests that move the clock. */
export interface AccessGateOptions {
  auth?: AuthConfig;
  rateLimit?: RateLimitOptions;
  now?: () => number;
}

/** The admission of an open server (no `auth`) without a rate limit: everything is allowed. */
export const OPEN_ADMISSION: Admission = { allows: () => true, headers: {} };

/**
 * The gate of one server; it keeps the rate limiter's counters.
 *
 * @example
 * const gate = new AccessGate({ auth: { apiKeys: ['k-1'] }, rateLimit: { maxRequests: 100, windowMs: 60_000 } });
 * const admission = await gate.admit({ request, path, clientAddress, calls: [{ method, scope }] });
 * if (!admission.allows(scope)) throw new ForbiddenError(method, scope);
 */
export class AccessGate {
  readonly #authenticate: Authenticator | undefined;
  readonly #emit: AuditEmitter;
  readonly #limiter: FixedWindowRateLimiter | undefined;
  readonly #now: () => number;

  constructor(options: AccessGateOptions) {
    this.#now = options.now ?? Date.now;
    this.#authenticate = options.auth === undefined ? undefined : createAuthenticator(options.auth);
    this.#emit = auditEmitter(options.auth?.auditSink);
    this.#limiter =
      options.rateLimit === undefined ? undefined : new FixedWindowRateLimiter(options.rateLimit, this.#now);
  }

  /** Whether `auth` is configured (otherwise every operation is open). */
  get authConfigured(): boolean {
    return this.#authenticate !== undefined;
  }

  /** Steps 1–4 above; throws `UnauthenticatedError` or `RateLimitedError`. */
  async admit(gate: GateRequest): Promise<Admission> {
    if (gate.calls.length === 0) return OPEN_ADMISSION;
    const addressKey = `address:${gate.clientAddress ?? 'unknown'}`;
    if (this.#authenticate === undefined) return { ...OPEN_ADMISSION, headers: this.#count(addressKey) };

    const authentication = await this.#authenticate(gate.request);
    const allows = authentication.ok ? holds(authentication.principal) : () => false;
    this.#audit(gate, authentication, allows);
    const headers = this.#count(authentication.ok ? `subject:${authentication.principal.subject}` : addressKey);
    if (!authentication.ok) throw new UnauthenticatedError(headers);
    return { allows, headers };
  }

  #count(key: string): Record<string, string> {
    if (this.#limiter === undefined) return {};
    const decision = this.#limiter.take(key);
    const now = this.#now();
    const headers = rateLimitHeaders(decision, now);
    if (!decision.allowed) throw new RateLimitedError(headers, retryAfterSeconds(decision, now));
    return headers;
  }

  #audit(gate: GateRequest, authentication: Authentication, allows: (scope: Scope) => boolean): void {
    const timestamp = new Date(this.#now()).toISOString();
    const subject = authentication.ok ? authentication.principal.subject : null;
    for (const call of gate.calls) {
      const base = {
        type: 'weft.auth-audit' as const,
        timestamp,
        subject,
        method: call.method,
        path: gate.path,
        httpMethod: gate.request.method,
        requiredScope: call.scope,
      };
      if (allows(call.scope)) {
        this.#emit({ ...base, outcome: 'success' });
        continue;
      }
      const reason = authentication.ok ? 'insufficient_scope' : authentication.reason;
      const credentialFingerprint = authentication.credentialFingerprint();
      this.#emit({
        ...base,
        outcome: 'failure',
        reason,
        ...(credentialFingerprint === undefined ? {} : { credentialFingerprint }),
      });
    }
  }
}

/** The scope check of a principal: it holds a scope or it does not (no scope implies another). */
function holds(principal: Principal): (scope: Scope) => boolean {
  const scopes = new Set(principal.scopes);
  return (scope) => scopes.has(scope);
}
