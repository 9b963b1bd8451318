/**
 * The shapes of `serve({ auth })`: who a caller is (`Principal`), how they prove it (`AuthConfig`),
 * and the audit event every non-public decision emits (`AuthAuditEvent`).
 *
 * Scopes are the catalog's (`workflows:read`, `workflows:write`, ...): an operation declares the one
 * it needs, a principal carries the ones it was granted, and a call goes through only when the
 * principal holds exactly that scope (no scope implies another).
 */
import type { JWK } from 'jose';
import { Scope } from '../../protocol/operation-spec.ts';

/**
 * An authenticated caller: a stable `subject` (audit, rate limit key) and the scopes granted.
 *
 * @example
 * const principal: Principal = { subject: 'billing-service', scopes: ['workflows:read'] };
 */
export interface Principal {
  subject: string;
  scopes: string[];
}

/**
 * How a JWT is verified (through `jose`). Exactly one key source: `secret` (HMAC), `publicKey`
 * (a `CryptoKey` or a JWK) or `jwksUrl` (fetched and cached). The subject is the `sub` claim;
 * scopes come from `scope` (space-separated) and/or `scopes` (an array).
 *
 * @example
 * const jwt: JwtOptions = { jwksUrl: 'https://id.example.com/.well-known/jwks.json', issuer: 'https://id.example.com', audience: 'weft' };
 */
export interface JwtOptions {
  secret?: string;
  publicKey?: CryptoKey | JWK;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  algorithms?: string[];
}

/**
 * `serve({ auth })`. Any configured method may admit a request: an API key from `apiKeys` or
 * `resolveApiKeyPrincipal`, a JWT, or the custom `authenticate`. A request none of them admits is
 * a 401.
 *
 * @example
 * const auth: AuthConfig = { apiKeys: [process.env.WEFT_API_KEY!], auditSink: (event) => siem.send(event) };
 */
export interface AuthConfig {
  /** Static keys; each grants `DEFAULT_AUTHENTICATED_SCOPES` under the subject `api-key:<fingerprint>`. */
  apiKeys?: string[];
  /** Looks a presented key up (see `createRotatingApiKeyStore`); `undefined` means "not a key". */
  resolveApiKeyPrincipal?: (key: string) => Principal | undefined | Promise<Principal | undefined>;
  jwt?: JwtOptions;
  /**
   * Custom authentication from the request's headers (cookies, a proxy's identity header, ...);
   * `null` means "not admitted by this method". It must not read the body: the operation reads it
   * afterwards.
   */
  authenticate?: (request: Request) => Principal | null | Promise<Principal | null>;
  /** Where audit events go instead of the console. */
  auditSink?: (event: AuthAuditEvent) => void;
}

/**
 * The scope set of a static `apiKeys` entry: every scope of the catalog (an operator key).
 *
 * @example
 * DEFAULT_AUTHENTICATED_SCOPES.includes('workflows:admin'); // true
 */
export const DEFAULT_AUTHENTICATED_SCOPES: readonly string[] = Object.freeze(Object.values(Scope));

/** Why a request was turned away. */
export type AuthFailureReason =
  'missing_credential' | 'invalid_credential' | 'expired_credential' | 'insufficient_scope';

/**
 * One authentication decision on a non-public operation. `credentialFingerprint` is a one-way
 * fingerprint of the presented credential (failures only, and only when one was presented); the
 * credential itself is never part of an event.
 *
 * @example
 * auditSink: (event) => { if (event.outcome === 'failure') alert(event.subject, event.reason) }
 */
export interface AuthAuditEvent {
  type: 'weft.auth-audit';
  /** ISO 8601 time of the decision. */
  timestamp: string;
  outcome: 'success' | 'failure';
  /** The authenticated subject; `null` when nobody was authenticated. */
  subject: string | null;
  /**
   * The operation (catalog method name, e.g. `weft.workflows.start`); `null` for a JSON-RPC request
   * refused before its body was read (an unauthenticated caller's body is never read).
   */
  method: string | null;
  /** The request path, without the query string. */
  path: string;
  httpMethod: string;
  /** The scope the operation needs; `null` with `method: null`. */
  requiredScope: string | null;
  /** Failures only. */
  reason?: AuthFailureReason;
  /** Failures only, when a credential was presented: `sha256:` and 12 hex digits. */
  credentialFingerprint?: string;
}
