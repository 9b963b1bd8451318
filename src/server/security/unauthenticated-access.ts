/**
 * What `serve()` does when no `auth` is configured: `'warn'` (the default) starts an open server
 * and logs a loud warning, `'allow'` starts it silently (an intentionally open local process
 * boundary), `'reject'` refuses to start. `WEFT_SERVER_AUTHENTICATION_REQUIRED=1` acts as
 * `'reject'` whatever the option says, so a production wrapper can require authentication without
 * touching code.
 *
 * Trap it avoids: a typo that opens a server. An environment value that is neither on (`1`,
 * `true`, `yes`) nor off (`0`, `false`, `no`, empty) is refused rather than read as off.
 */
import { InvalidArgumentError, WeftError } from '../../core/errors.ts';

/** `serve({ unauthenticatedAccess })`. */
export type UnauthenticatedAccess = 'warn' | 'allow' | 'reject';

/** The environment variable that makes authentication mandatory. */
export const AUTHENTICATION_REQUIRED_ENV = 'WEFT_SERVER_AUTHENTICATION_REQUIRED';

/**
 * Code `authentication_required`: `serve()` was told to refuse an unauthenticated server and was
 * given no `auth`.
 */
export class AuthenticationRequiredError extends WeftError {
  constructor(because: string) {
    super(
      'authentication_required',
      `serve() needs auth (apiKeys, resolveApiKeyPrincipal, jwt or authenticate): ${because}`,
    );
  }
}

/**
 * What `serve()` does about authentication at startup: `'secured'` when `auth` is configured,
 * else `'warn'` or `'allow'`; throws `AuthenticationRequiredError` when an open server must not
 * start. The option and the environment variable are checked either way, so a typo in them is an
 * error even on a server that has `auth` today.
 *
 * @example
 * startupAccess(undefined, { authConfigured: false, env: { WEFT_SERVER_AUTHENTICATION_REQUIRED: '1' } }); // throws
 */
export function startupAccess(
  option: UnauthenticatedAccess | undefined,
  { authConfigured, env = process.env }: { authConfigured: boolean; env?: Record<string, string | undefined> },
): 'secured' | 'warn' | 'allow' {
  if (option !== undefined && option !== 'warn' && option !== 'allow' && option !== 'reject') {
    throw new InvalidArgumentError(`unauthenticatedAccess must be 'warn', 'allow' or 'reject', not ${String(option)}`);
  }
  const required = authenticationRequired(env[AUTHENTICATION_REQUIRED_ENV]);
  if (authConfigured) return 'secured';
  if (required) throw new AuthenticationRequiredError(`${AUTHENTICATION_REQUIRED_ENV} is set`);
  if (option === 'reject') throw new AuthenticationRequiredError(`unauthenticatedAccess is 'reject'`);
  return option ?? 'warn';
}

function authenticationRequired(value: string | undefined): boolean {
  const normalized = (value ?? '').trim().toLowerCase();
  if (['1', 'true', 'yes'].includes(normalized)) return true;
  if (['', '0', 'false', 'no'].includes(normalized)) return false;
  throw new InvalidArgumentError(`${AUTHENTICATION_REQUIRED_ENV} must be 1 or 0 (true/false, yes/no), not '${value}'`);
}

/** How `serve()`'s warning says to close the server: its own options, for an embedder. */
const SERVE_REMEDY = [
  "pass serve({ auth }) for production, unauthenticatedAccess: 'reject' (or",
  `${AUTHENTICATION_REQUIRED_ENV}=1) to refuse to start without it, or`,
  "unauthenticatedAccess: 'allow' to silence this for an intentionally open local process.",
];

/**
 * The startup warning of an open server. `remedy` replaces the lines that say how to close it, so
 * a caller whose user never writes `serve()` (the CLI) can name what that user sets instead.
 *
 * @example
 * console.warn(openAccessWarning('http://127.0.0.1:3000'));
 * console.warn(openAccessWarning(url, ['set WEFT_API_KEYS=<key> to require an API key.']));
 */
export function openAccessWarning(url: string, remedy: readonly string[] = SERVE_REMEDY): string {
  const rule = '!'.repeat(78);
  return [
    rule,
    `weft: WARNING — the server at ${url} has NO AUTHENTICATION.`,
    'weft: every workflow operation (start, signal, cancel, delete, ...) is open to anyone who can connect.',
    ...remedy.map((line) => `weft: ${line}`),
    rule,
  ].join('\n');
}
