/**
 * Who sent a request, by the methods `serve({ auth })` configures, tried in order: a bearer token
 * that looks like a JWT (when `jwt` is set), the presented API key against `apiKeys` and then
 * `resolveApiKeyPrincipal`, and last the custom `authenticate(request)`. The first that admits
 * decides; if none does, the request is turned away (`missing_credential` when it carried no
 * credential header, else `invalid_credential`, or `expired_credential` for an expired JWT).
 *
 * The credential is read from `Authorization: Bearer <credential>`, or — only when there is no
 * `Authorization` header — from `X-API-Key`. An `Authorization` header of another scheme is left to
 * the custom authenticator.
 *
 * Trap it avoids: a misbehaving hook turning into a 500 or an admission. A resolver or
 * authenticator that throws, or returns something that is not a principal, counts as "not
 * admitted" and is reported on `console.error` without the credential.
 */
import { InvalidArgumentError } from '../../core/errors.ts';
import { matchKey, keyDigest } from './api-keys.ts';
import {
  DEFAULT_AUTHENTICATED_SCOPES,
  type AuthConfig,
  type AuthFailureReason,
  type Principal,
} from './auth-config.ts';
import { createJwtVerifier, JwtRejectedError, looksLikeJwt } from './jwt-verifier.ts';
import { credentialFingerprint } from './redaction.ts';

/** The outcome of authenticating one request. */
export type Authentication = (
  { ok: true; principal: Principal } | { ok: false; reason: Exclude<AuthFailureReason, 'insufficient_scope'> }
) & {
  /**
   * The one-way fingerprint of the presented credential (`undefined` when none was presented).
   * Computed on first call: only a failure's audit event needs it, so an admitted request does
   * not pay for a second hash.
   */
  credentialFingerprint: () => string | undefined;
};

/** Authenticates requests; built once per server by `createAuthenticator`. */
export type Authenticator = (request: Request) => Promise<Authentication>;

/**
 * Checks an `auth` config (throws `InvalidArgumentError` before the server binds) and builds its
 * authenticator.
 *
 * @example
 * const authenticate = createAuthenticator({ apiKeys: ['k-1'] });
 * const outcome = await authenticate(request); // { ok: true, principal } or { ok: false, reason }
 */
export function createAuthenticator(config: AuthConfig): Authenticator {
  checkAuthConfig(config);
  const staticKeys = (config.apiKeys ?? []).map((key) => ({
    digest: keyDigest(key),
    principal: { subject: `api-key:${credentialFingerprint(key)}`, scopes: [...DEFAULT_AUTHENTICATED_SCOPES] },
  }));
  const digests = staticKeys.map((key) => key.digest);
  const verifyJwt = config.jwt === undefined ? undefined : createJwtVerifier(config.jwt);
  const { resolveApiKeyPrincipal, authenticate } = config;

  return async (request) => {
    const presented = readCredential(request.headers);
    let fingerprint: string | undefined;
    const fingerprintOf = () => {
      if (presented.raw !== undefined) fingerprint ??= credentialFingerprint(presented.value ?? presented.raw);
      return fingerprint;
    };
    const admit = (principal: Principal): Authentication => ({
      ok: true,
      principal,
      credentialFingerprint: fingerprintOf,
    });
    let expired = false;
    if (presented.value !== undefined) {
      const credential = presented.value;
      if (verifyJwt !== undefined && presented.bearer && looksLikeJwt(credential)) {
        try {
          return admit(await verifyJwt(credential));
        } catch (error) {
          if (!(error instanceof JwtRejectedError)) throw error;
          expired = error.reason === 'expired';
        }
      }
      const index = matchKey(digests, credential);
      if (index !== -1) return admit(copy(staticKeys[index]!.principal));
      if (resolveApiKeyPrincipal !== undefined) {
        const principal = await principalFrom('auth.resolveApiKeyPrincipal', () => resolveApiKeyPrincipal(credential));
        if (principal !== undefined) return admit(principal);
      }
    }
    if (authenticate !== undefined) {
      const principal = await principalFrom('auth.authenticate', () => authenticate(request));
      if (principal !== undefined) return admit(principal);
    }
    const reason =
      presented.raw === undefined ? 'missing_credential' : expired ? 'expired_credential' : 'invalid_credential';
    return { ok: false, reason, credentialFingerprint: fingerprintOf };
  };
}

interface PresentedCredential {
  /** The credential: a bearer token or an `X-API-Key` value. */
  value: string | undefined;
  /** Whether it came as `Authorization: Bearer`. */
  bearer: boolean;
  /** The whole header value it came in (for a fingerprint when it is not a bearer credential). */
  raw: string | undefined;
}

function readCredential(headers: Headers): PresentedCredential {
  const authorization = headers.get('authorization');
  if (authorization !== null) {
    const bearer = /^Bearer +(\S+) *$/i.exec(authorization);
    return { value: bearer?.[1], bearer: bearer !== null, raw: authorization };
  }
  const apiKey = headers.get('x-api-key')?.trim();
  if (apiKey === undefined) return { value: undefined, bearer: false, raw: undefined };
  return { value: apiKey === '' ? undefined : apiKey, bearer: false, raw: apiKey };
}

async function principalFrom(
  hook: string,
  call: () => Principal | null | undefined | Promise<Principal | null | undefined>,
): Promise<Principal | undefined> {
  let value: unknown;
  try {
    value = await call();
  } catch (error) {
    console.error(`weft: ${hook} threw (request not admitted): ${error instanceof Error ? error.name : typeof error}`);
    return undefined;
  }
  if (value === null || value === undefined) return undefined;
  if (!isPrincipal(value)) {
    console.error(`weft: ${hook} returned something that is not { subject: string, scopes: string[] }; not admitted`);
    return undefined;
  }
  return copy(value);
}

function isPrincipal(value: unknown): value is Principal {
  if (typeof value !== 'object' || value === null) return false;
  const { subject, scopes } = value as Partial<Principal>;
  return (
    typeof subject === 'string' &&
    subject !== '' &&
    Array.isArray(scopes) &&
    scopes.every((scope) => typeof scope === 'string')
  );
}

function copy(principal: Principal): Principal {
  return { subject: principal.subject, scopes: [...principal.scopes] };
}

/** Throws `InvalidArgumentError` for an `auth` config that could never admit anyone or is malformed. */
function checkAuthConfig(config: AuthConfig): void {
  if (config === null || typeof config !== 'object') throw new InvalidArgumentError('auth must be an object');
  const { apiKeys, resolveApiKeyPrincipal, jwt, authenticate, auditSink } = config;
  if (apiKeys !== undefined) {
    if (!Array.isArray(apiKeys) || !apiKeys.every((key) => typeof key === 'string' && key.length > 0)) {
      throw new InvalidArgumentError('auth.apiKeys must be an array of non-empty strings');
    }
  }
  for (const [name, hook] of Object.entries({ resolveApiKeyPrincipal, authenticate, auditSink })) {
    if (hook !== undefined && typeof hook !== 'function')
      throw new InvalidArgumentError(`auth.${name} must be a function`);
  }
  const methods = (apiKeys?.length ?? 0) + [resolveApiKeyPrincipal, jwt, authenticate].filter(Boolean).length;
  if (methods === 0) {
    throw new InvalidArgumentError(
      'auth admits nobody: give apiKeys, resolveApiKeyPrincipal, jwt or authenticate (or omit auth for an open server)',
    );
  }
}
