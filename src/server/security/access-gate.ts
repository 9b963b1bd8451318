/**
 * The security layer in front of the operation catalog: authentication, the audit trail, the rate
 * limit and the scope check, in that order, for the non-public operations a request calls (one
 * for REST, one or more for a JSON-RPC batch). Public operations (health), the metrics and the
 * discovery documents never reach it: no credential is examined, nothing is audited or counted.
 *
 * Order of a decision:
 * 1. Authenticate the request once (when `auth` is configured), from its headers alone.
 * 2. Audit one event per non-public operation called: success, or failure with its reason
 *    (`missing_credential`, `invalid_credential`, `expired_credential`, `insufficient_scope`).
 * 3. Count the calls against the rate limit, keyed by the principal's subject when one was
 *    authenticated, else by the client address — failed attempts count too, so guessing keys is
 *    throttled like any flood. Each call counts: a JSON-RPC batch of 100 calls costs 100. Over
 *    budget → 429 (whatever the authentication said).
 * 4. No principal → 401. Missing scope → 403, per operation (the caller throws it via `allows`).
 *
 * Trap it avoids: a body read for nobody. A JSON-RPC request names its operations in its body, so
 * `identify` runs step 1 before the body is read and turns an unauthenticated caller away at once
 * (one audit event with `method: null`); only an admitted caller's body is read, then `decide`
 * runs steps 2–4 on the calls it holds. REST names its operation in the route: `admit` does both.
 *
 * Without `auth` the server is open: every operation is allowed, nothing is audited, and the rate
 * limit (if set) is keyed by client address.
 */
import type { Scope } from '../../protocol/operation-spec.ts';
import { RateLimitedError, UnauthenticatedError } from '../server-errors.ts';
import { auditEmitter, type AuditEmitter } from './audit.ts';
import type { AuthAuditEvent, AuthConfig, Principal } from './auth-config.ts';
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
  /** The authenticated principal's subject; absent on an open server. */
  subject?: string;
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
 * Who is calling, decided from the request's headers before its body is read: `undefined` on an
 * open server (no `auth`), else an admitted authentication.
 */
export type Identity = Extract<Authentication, { ok: true }> | undefined;

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

  /** Steps 1–4 above for calls known from the route; throws `UnauthenticatedError` or `RateLimitedError`. */
  async admit(gate: GateRequest): Promise<Admission> {
    if (gate.calls.length === 0) return OPEN_ADMISSION;
    const authentication = this.#authenticate === undefined ? undefined : await this.#authenticate(gate.request);
    return this.#decide(gate, authentication);
  }

  /**
   * Step 1 for a request whose calls are not known yet (a JSON-RPC body not read): a caller not
   * admitted is audited once (`method: null`), counted against its address and refused with
   * `UnauthenticatedError` (or `RateLimitedError`) here. Hand the identity to `decide` once the
   * body has named the calls.
   */
  async identify(request: Omit<GateRequest, 'calls'>): Promise<Identity> {
    if (this.#authenticate === undefined) return undefined;
    const authentication = await this.#authenticate(request.request);
    if (authentication.ok) return authentication;
    this.#auditFailure(request, authentication, UNREAD_CALL);
    throw new UnauthenticatedError(this.#count(addressKey(request), 1));
  }

  /**
   * A connection that will carry calls later (a JSON-RPC WebSocket): step 1 as `identify`, then the
   * connection itself counts once against the rate limit. Returns the identity for `decide` on
   * each message, and the rate limit headers.
   */
  async connect(request: Omit<GateRequest, 'calls'>): Promise<{ identity: Identity; headers: Record<string, string> }> {
    const identity = await this.identify(request);
    const key = identity === undefined ? addressKey(request) : `subject:${identity.principal.subject}`;
    return { identity, headers: this.#count(key, 1) };
  }

  /** Steps 2–4 for the calls of a request `identify` let through. */
  decide(gate: GateRequest, identity: Identity): Admission {
    if (gate.calls.length === 0) return OPEN_ADMISSION;
    return this.#decide(gate, identity);
  }

  #decide(gate: GateRequest, authentication: Authentication | undefined): Admission {
    const cost = gate.calls.length;
    if (authentication === undefined) return { ...OPEN_ADMISSION, headers: this.#count(addressKey(gate), cost) };
    const allows = authentication.ok ? holds(authentication.principal) : () => false;
    this.#audit(gate, authentication, allows);
    const key = authentication.ok ? `subject:${authentication.principal.subject}` : addressKey(gate);
    const headers = this.#count(key, cost);
    if (!authentication.ok) throw new UnauthenticatedError(headers);
    return { allows, headers, subject: authentication.principal.subject };
  }

  #count(key: string, cost: number): Record<string, string> {
    if (this.#limiter === undefined) return {};
    const decision = this.#limiter.take(key, cost);
    const now = this.#now();
    const headers = rateLimitHeaders(decision, now);
    if (!decision.allowed) throw new RateLimitedError(headers, retryAfterSeconds(decision, now));
    return headers;
  }

  /** One event per distinct method called (a batch calling `start` ten times is one decision). */
  #audit(gate: GateRequest, authentication: Authentication, allows: (scope: Scope) => boolean): void {
    const audited = new Set<string>();
    for (const call of gate.calls) {
      if (audited.has(call.method)) continue;
      audited.add(call.method);
      if (!allows(call.scope)) {
        this.#auditFailure(gate, authentication, call);
        continue;
      }
      this.#emit({ ...this.#eventBase(gate, authentication, call), outcome: 'success' });
    }
  }

  #auditFailure(
    request: Omit<GateRequest, 'calls'>,
    authentication: Authentication,
    call: GuardedCall | typeof UNREAD_CALL,
  ): void {
    const reason = authentication.ok ? 'insufficient_scope' : authentication.reason;
    const credentialFingerprint = authentication.ok ? undefined : authentication.credentialFingerprint();
    this.#emit({
      ...this.#eventBase(request, authentication, call),
      outcome: 'failure',
      reason,
      ...(credentialFingerprint === undefined ? {} : { credentialFingerprint }),
    });
  }

  #eventBase(
    request: Omit<GateRequest, 'calls'>,
    authentication: Authentication,
    call: GuardedCall | typeof UNREAD_CALL,
  ): Omit<AuthAuditEvent, 'outcome'> {
    return {
      type: 'weft.auth-audit',
      timestamp: new Date(this.#now()).toISOString(),
      subject: authentication.ok ? authentication.principal.subject : null,
      method: call.method,
      path: request.path,
      httpMethod: request.request.method,
      requiredScope: call.scope,
    };
  }
}

/** The call of a request refused before its body named one. */
const UNREAD_CALL = { method: null, scope: null } as const;

function addressKey(request: Omit<GateRequest, 'calls'>): string {
  return `address:${request.clientAddress ?? 'unknown'}`;
}

/** The scope check of a principal: it holds a scope or it does not (no scope implies another). */
function holds(principal: Principal): (scope: Scope) => boolean {
  const scopes = new Set(principal.scopes);
  return (scope) => scopes.has(scope);
}
