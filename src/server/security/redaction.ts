/**
 * Credentials out of log lines: a one-way fingerprint of a secret, and masking of the headers that
 * carry one (`Authorization`, `X-API-Key`, `Cookie`, `Proxy-Authorization`).
 *
 * Trap it avoids: a secret in a log. A masked value keeps a short SHA-256 fingerprint so two log
 * lines about the same key can be correlated, but 48 bits of a hash cannot be turned back into the
 * key (and are far too few to confirm a guess offline with any confidence).
 */
import { createHash } from 'node:crypto';

/** Headers whose values are credentials, lower-case. */
export const CREDENTIAL_HEADERS: readonly string[] = ['authorization', 'x-api-key', 'cookie', 'proxy-authorization'];

/**
 * A one-way fingerprint of a credential: `sha256:` and the first 12 hex digits of its SHA-256.
 *
 * @example
 * credentialFingerprint('secret-key'); // 'sha256:…' (12 hex digits), the same for the same key
 */
export function credentialFingerprint(credential: string): string {
  return `sha256:${createHash('sha256').update(credential).digest('hex').slice(0, 12)}`;
}

/** Authorization schemes kept in front of a masked value (anything else is masked whole). */
const AUTH_SCHEMES: ReadonlySet<string> = new Set([
  'basic',
  'bearer',
  'digest',
  'negotiate',
  'token',
  'apikey',
  'dpop',
]);

/**
 * Masks a credential for a log line. A value starting with a well-known authorization scheme
 * keeps the scheme (`Bearer [redacted sha256:…]`); anything else is masked whole
 * (`[redacted sha256:…]`) — a key with a space in it must not leak its first word.
 *
 * @example
 * redactCredential('Bearer eyJhbGciOi...'); // 'Bearer [redacted sha256:3f1c0a9b2d7e]'
 */
export function redactCredential(value: string): string {
  const scheme = /^(\S+) +(\S.*)$/.exec(value);
  if (scheme !== null && AUTH_SCHEMES.has(scheme[1]!.toLowerCase())) {
    return `${scheme[1]} [redacted ${credentialFingerprint(scheme[2]!)}]`;
  }
  return maskWhole(value);
}

function maskWhole(value: string): string {
  return `[redacted ${credentialFingerprint(value)}]`;
}

/** Headers whose whole value is the secret: no scheme to keep. */
const SCHEMELESS_HEADERS: ReadonlySet<string> = new Set(['x-api-key', 'cookie']);

/** Headers in any of the shapes `fetch` accepts. */
export type HeaderInput = Headers | Record<string, string | string[] | undefined> | [string, string][];

/**
 * A plain copy of headers (lower-case names) safe to log: credential headers masked by
 * `redactCredential`, everything else as is.
 *
 * @example
 * console.info('request', redactHeaders(request.headers));
 * // { authorization: 'Bearer [redacted sha256:…]', 'content-type': 'application/json' }
 */
export function redactHeaders(headers: HeaderInput): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of entriesOf(headers)) {
    const key = name.toLowerCase();
    if (!CREDENTIAL_HEADERS.includes(key)) out[key] = value;
    else out[key] = SCHEMELESS_HEADERS.has(key) ? maskWhole(value) : redactCredential(value);
  }
  return out;
}

function entriesOf(headers: HeaderInput): [string, string][] {
  if (headers instanceof Headers) return [...headers.entries()];
  if (Array.isArray(headers)) return headers;
  return Object.entries(headers)
    .filter((entry): entry is [string, string | string[]] => entry[1] !== undefined)
    .map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : value]);
}
