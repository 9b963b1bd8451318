/**
 * Verifies the bearer JWTs of `serve({ auth: { jwt } })` with `jose` and turns a valid one into a
 * `Principal` (subject from `sub`, scopes from `scope` / `scopes`).
 *
 * The traps it avoids: unsecured (`alg: none`) tokens and algorithm confusion (an HMAC token
 * "signed" with a public key) are impossible, because the accepted algorithms always come from the
 * key source and `none` is refused at configuration; a token without `exp` would live forever, so
 * `exp` is required; a misconfiguration throws when the verifier is created, not on the first
 * request; and whatever goes wrong while verifying (bad signature, JWKS endpoint down) is a
 * `JwtRejectedError` the caller answers with a 401, never a crash, and never carries the token.
 */
import { createRemoteJWKSet, errors, importJWK, jwtVerify } from 'jose';
import type { JWK, JWTPayload, JWTVerifyGetKey, JWTVerifyOptions, KeyInput } from 'jose';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { JwtOptions, Principal } from './auth-config.ts';

/**
 * Seconds of clock skew tolerated on `exp` and `nbf` between the token issuer and this server.
 *
 * @example
 * // A token whose `exp` passed 3 s ago is still accepted; one that expired a minute ago is not.
 * const lastAccepted = exp + JWT_CLOCK_TOLERANCE_SECONDS;
 */
export const JWT_CLOCK_TOLERANCE_SECONDS = 5;

/**
 * The algorithms accepted with a `secret` when `algorithms` is not given (HMAC only).
 *
 * @example
 * createJwtVerifier({ secret, algorithms: [...JWT_HMAC_ALGORITHMS].filter((alg) => alg !== 'HS256') });
 */
export const JWT_HMAC_ALGORITHMS: readonly string[] = Object.freeze(['HS256', 'HS384', 'HS512']);

/**
 * The algorithms accepted with a `publicKey` or `jwksUrl` when `algorithms` is not given
 * (RSA PKCS#1 v1.5, RSA-PSS, ECDSA and EdDSA; never HMAC).
 *
 * @example
 * JWT_ASYMMETRIC_ALGORITHMS.includes('ES256'); // true
 */
export const JWT_ASYMMETRIC_ALGORITHMS: readonly string[] = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
]);

/** Why a token was turned away: `expired` (authentic, but past `exp`) or `invalid` (anything else). */
export type JwtRejectionReason = 'expired' | 'invalid';

/**
 * A token that did not verify. `reason` is `expired` when the token is authentic but past its
 * `exp` (plus `JWT_CLOCK_TOLERANCE_SECONDS`), `invalid` for every other failure, including a JWKS
 * endpoint that cannot be reached. The message never contains the token; `cause` is the underlying
 * `jose` (or fetch) error.
 *
 * @example
 * try { principal = await verify(token) } catch (e) { if (e instanceof JwtRejectedError) return unauthorized(e.reason) }
 */
export class JwtRejectedError extends Error {
  readonly reason: JwtRejectionReason;

  constructor(reason: JwtRejectionReason, detail: string, options?: { cause?: unknown }) {
    super(`JWT rejected (${reason}): ${detail}`, options);
    this.name = 'JwtRejectedError';
    this.reason = reason;
  }
}

/** What `jwtVerify` is given: a key, or a resolver for the JWK and JWKS sources. */
interface KeySource {
  key: KeyInput | JWTVerifyGetKey;
  defaultAlgorithms: readonly string[];
  symmetric: boolean;
  /** The `alg` a JWK is bound to, if it names one. */
  keyAlgorithm?: string;
}

/**
 * Checks `options` at once and returns the function that verifies one token. Exactly one key
 * source: `secret` (HMAC), `publicKey` (a public `CryptoKey` or JWK; a JWK is imported on first
 * use) or `jwksUrl` (http(s), fetched and cached by `jose`). `issuer` and `audience`, when given,
 * must match; `exp` is required. Throws `InvalidArgumentError` for a bad configuration; the
 * returned function rejects with `JwtRejectedError` for a bad token.
 *
 * @example
 * const verify = createJwtVerifier({ jwksUrl: 'https://id.example.com/.well-known/jwks.json', audience: 'weft' });
 * const principal = await verify(bearerToken); // { subject: 'billing-service', scopes: ['workflows:read'] }
 */
export function createJwtVerifier(options: JwtOptions): (token: string) => Promise<Principal> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('JWT options must be an object');
  }
  const source = keySource(options);
  const algorithms = acceptedAlgorithms(options.algorithms, source);
  if (source.keyAlgorithm !== undefined && !algorithms.includes(source.keyAlgorithm)) {
    throw new InvalidArgumentError(
      `JWT publicKey is bound to ${source.keyAlgorithm}, which is not among the accepted algorithms (${algorithms.join(', ')})`,
    );
  }
  const verifyOptions: JWTVerifyOptions = {
    algorithms,
    clockTolerance: JWT_CLOCK_TOLERANCE_SECONDS,
    requiredClaims: ['exp'],
  };
  if (options.issuer !== undefined) verifyOptions.issuer = nonEmptyString(options.issuer, 'issuer');
  if (options.audience !== undefined) verifyOptions.audience = nonEmptyString(options.audience, 'audience');

  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, source.key, verifyOptions));
    } catch (error) {
      throw rejection(error);
    }
    const subject = payload.sub;
    if (typeof subject !== 'string' || subject.length === 0) {
      throw new JwtRejectedError('invalid', 'the "sub" claim is missing or not a non-empty string');
    }
    return { subject, scopes: scopesOf(payload) };
  };
}

/**
 * Whether `token` has the shape of a compact JWS (`header.payload.signature`, base64url segments,
 * header and payload non-empty). Cheap and without crypto: for telling a JWT from an API key, not
 * for trusting it.
 *
 * @example
 * looksLikeJwt('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln'); // true
 * looksLikeJwt('wk_live_3f9a'); // false
 */
export function looksLikeJwt(token: string): boolean {
  if (typeof token !== 'string') return false;
  const segments = token.split('.');
  if (segments.length !== 3) return false;
  const [header = '', payload = ''] = segments;
  return header.length > 0 && payload.length > 0 && segments.every(isBase64url);
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;
/** Unpadded base64url; a length of 4n + 1 cannot come out of any encoding. */
const isBase64url = (segment: string) => BASE64URL.test(segment) && segment.length % 4 !== 1;

function keySource(options: JwtOptions): KeySource {
  const given = (['secret', 'publicKey', 'jwksUrl'] as const).filter((name) => options[name] !== undefined);
  if (given.length !== 1) {
    throw new InvalidArgumentError(
      given.length === 0
        ? 'JWT options need a key source: one of secret, publicKey or jwksUrl'
        : `JWT options take exactly one key source, got ${given.join(' and ')}`,
    );
  }
  const { secret, publicKey, jwksUrl } = options;
  if (secret !== undefined) {
    if (typeof secret !== 'string' || secret.length === 0) {
      throw new InvalidArgumentError('JWT secret must be a non-empty string');
    }
    return { key: new TextEncoder().encode(secret), defaultAlgorithms: JWT_HMAC_ALGORITHMS, symmetric: true };
  }
  if (jwksUrl !== undefined) {
    return {
      key: createRemoteJWKSet(httpUrl(jwksUrl)),
      defaultAlgorithms: JWT_ASYMMETRIC_ALGORITHMS,
      symmetric: false,
    };
  }
  if (isCryptoKey(publicKey)) {
    if (publicKey.type !== 'public') {
      throw new InvalidArgumentError(`JWT publicKey must be a public key, got a ${publicKey.type} CryptoKey`);
    }
    return { key: publicKey, defaultAlgorithms: JWT_ASYMMETRIC_ALGORITHMS, symmetric: false };
  }
  const jwk = publicJwk(publicKey);
  return {
    key: jwkResolver(jwk),
    defaultAlgorithms: JWT_ASYMMETRIC_ALGORITHMS,
    symmetric: false,
    ...(typeof jwk.alg === 'string' ? { keyAlgorithm: jwk.alg } : {}),
  };
}

function acceptedAlgorithms(algorithms: unknown, source: KeySource): string[] {
  if (algorithms === undefined) return [...source.defaultAlgorithms];
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    throw new InvalidArgumentError('JWT algorithms must be a non-empty array of algorithm names');
  }
  for (const alg of algorithms as unknown[]) {
    if (typeof alg !== 'string' || alg.length === 0) {
      throw new InvalidArgumentError('JWT algorithms must be non-empty strings');
    }
    if (alg.toLowerCase() === 'none') {
      throw new InvalidArgumentError('JWT algorithms must not contain "none": unsecured tokens are never accepted');
    }
    // Algorithm confusion: an HMAC algorithm with a public key, or a signature algorithm with a secret.
    if (alg.startsWith('HS') !== source.symmetric) {
      throw new InvalidArgumentError(
        source.symmetric
          ? `JWT algorithm ${alg} cannot be verified with a secret; use ${JWT_HMAC_ALGORITHMS.join(', ')}`
          : `JWT algorithm ${alg} needs a secret; a publicKey or jwksUrl verifies signature algorithms only`,
      );
    }
  }
  return [...(algorithms as string[])];
}

function httpUrl(value: unknown): URL {
  const url = typeof value === 'string' && URL.canParse(value) ? new URL(value) : undefined;
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new InvalidArgumentError('JWT jwksUrl must be an absolute http(s) URL');
  }
  return url;
}

function nonEmptyString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(`JWT ${name} must be a non-empty string when given`);
  }
  return value;
}

function isCryptoKey(value: unknown): value is CryptoKey {
  return typeof CryptoKey === 'function' && value instanceof CryptoKey;
}

function publicJwk(value: unknown): JWK {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError('JWT publicKey must be a CryptoKey or a JWK object');
  }
  const jwk = value as JWK;
  if (typeof jwk.kty !== 'string' || jwk.kty === 'oct') {
    throw new InvalidArgumentError('JWT publicKey must be an asymmetric JWK (kty RSA, EC or OKP); use secret for HMAC');
  }
  if ('d' in jwk) {
    throw new InvalidArgumentError('JWT publicKey is a private JWK; configure the public part only');
  }
  return jwk;
}

/**
 * Imports the JWK on first use and keeps the promise. A JWK without `alg` (as `exportJWK` writes
 * it) is imported for the token's algorithm; `jose` has already checked that one against the
 * accepted list, so at most one import per accepted algorithm ever happens.
 */
function jwkResolver(jwk: JWK): JWTVerifyGetKey {
  const imported = new Map<string, Promise<CryptoKey | Uint8Array>>();
  return (header) => {
    const alg = jwk.alg ?? header.alg ?? '';
    let key = imported.get(alg);
    if (key === undefined) {
      key = importJWK(jwk, alg);
      imported.set(alg, key);
    }
    return key;
  };
}

function rejection(error: unknown): JwtRejectedError {
  if (error instanceof errors.JWTExpired || (error as { code?: unknown } | null)?.code === 'ERR_JWT_EXPIRED') {
    return new JwtRejectedError('expired', 'the token is past its "exp"', { cause: error });
  }
  // jose's messages name the check that failed, never the token; other errors (fetch) stay in `cause`.
  const detail = error instanceof errors.JOSEError ? error.message : 'the token could not be verified';
  return new JwtRejectedError('invalid', detail, { cause: error });
}

/** `scope` (space-separated) then `scopes` (array, or space-separated), de-duplicated in order. */
function scopesOf(payload: JWTPayload): string[] {
  const scopes = new Set<string>();
  const add = (text: string) => {
    for (const scope of text.split(/\s+/)) if (scope.length > 0) scopes.add(scope);
  };
  if (typeof payload.scope === 'string') add(payload.scope);
  const list = payload.scopes;
  if (typeof list === 'string') add(list);
  else if (Array.isArray(list)) for (const item of list as unknown[]) if (typeof item === 'string') add(item);
  return [...scopes];
}
