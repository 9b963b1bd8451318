/**
 * The rule that makes "only same-origin browser requests succeed" hold on the server rather than
 * in the browser: a state-changing request (any method but GET, HEAD and OPTIONS) that carries an
 * `Origin` header runs only when that origin is the server's own or one `cors` allows.
 *
 * Trap it avoids: cross-site writes. A browser sends a "simple" cross-origin POST without asking
 * first; CORS only stops the page from reading the answer, after the run was started or deleted.
 * Requests without `Origin` (curl, server-side clients, same-origin GETs) are not browser
 * cross-site requests and pass. Same origin is judged by host and port (`Origin`'s against the
 * request URL's, which is what `Host` said), not scheme, so a TLS-terminating proxy in front of
 * the server does not turn its own pages into strangers.
 */
import type { CorsPolicy } from './cors.ts';

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether `request` is a state-changing request from a browser page of a foreign origin that
 * `cors` does not allow.
 *
 * @example
 * if (isForbiddenCrossSiteWrite(request, url, security?.cors)) throw new OriginNotAllowedError();
 */
export function isForbiddenCrossSiteWrite(request: Request, url: URL, cors: CorsPolicy | undefined): boolean {
  if (SAFE_METHODS.has(request.method)) return false;
  const origin = request.headers.get('origin');
  if (origin === null) return false;
  if (URL.parse(origin)?.host === url.host) return false;
  return cors?.allowsOrigin(origin) !== true;
}

/**
 * Whether a WebSocket upgrade comes from a browser page the server must not talk to: an `Origin`
 * that is neither the server's own nor one `cors` allows, or the opaque `Origin: null` (sandboxed
 * frames, `file://`), which never matches. CORS does not govern the WebSocket handshake — a page on
 * any site can open a socket to any server, with the user's cookies — so the server refuses it.
 *
 * @example
 * if (isForbiddenCrossOriginUpgrade(request, url, security?.cors)) throw new OriginNotAllowedError();
 */
export function isForbiddenCrossOriginUpgrade(request: Request, url: URL, cors: CorsPolicy | undefined): boolean {
  const origin = request.headers.get('origin');
  if (origin === null) return false;
  if (origin.trim().toLowerCase() === 'null') return true;
  if (URL.parse(origin)?.host === url.host) return false;
  return cors?.allowsOrigin(origin) !== true;
}
