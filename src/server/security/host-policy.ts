/**
 * Which `Host` header values a server answers: the defence against DNS rebinding. A page on
 * `http://rebind.evil.example:3000` whose name the attacker re-points at 127.0.0.1 makes the
 * browser send same-origin requests to a developer's loopback server, with that foreign name in
 * `Host`. A server bound to a loopback address is only reachable from this machine, so the only
 * names a legitimate client uses for it are loopback names and addresses; anything else is refused.
 *
 * - Bound to loopback (`127.0.0.0/8`, `::1`, `localhost`): `Host` must be `localhost`, a
 *   `*.localhost` name (browsers resolve those to loopback themselves, RFC 6761), an address in
 *   `127.0.0.0/8` or `[::1]` — or a name in `allowedHosts`.
 * - Bound elsewhere (`0.0.0.0`, a LAN address): any `Host`, unless `allowedHosts` is given; then
 *   the loopback names, the bound address and the listed names.
 *
 * `allowedHosts` entries are host names without a port, compared case-insensitively; an entry
 * starting with a dot (`.example.com`) matches that domain and every subdomain. The port in
 * `Host` is not checked: a request that reached this listener reached its port.
 */
import { InvalidArgumentError } from '../../core/errors.ts';

/** The options `serve()` passes: where it listens and which other names it answers to. */
export interface HostPolicyOptions {
  /** The address the server is bound to, as given to `serve({ hostname })`. */
  listenHostname?: string;
  /** More host names to answer (`serve({ allowedHosts })`, `weft serve --allowed-host`). */
  allowedHosts?: readonly string[];
}

/** A compiled host policy. */
export interface HostPolicy {
  /** Whether a request whose URL has this `hostname` (as `URL.hostname` spells it) is answered. */
  allows(hostname: string): boolean;
}

/** A host name or address: letters, digits, dots, hyphens, underscores, or a bracketed IPv6 address. */
const HOST_NAME = /^(?:\.?[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?|\[[0-9a-f:.]+\])$/i;

/**
 * The policy of a server, or `undefined` when every `Host` is answered (bound to a non-loopback
 * address without `allowedHosts`). Throws `InvalidArgumentError` for an entry that is not a host name.
 *
 * @example
 * const policy = compileHostPolicy({ listenHostname: '127.0.0.1', allowedHosts: ['weft.internal'] });
 * policy?.allows('localhost'); // true
 * policy?.allows('rebind.evil.example'); // false
 */
export function compileHostPolicy(options: HostPolicyOptions): HostPolicy | undefined {
  const { listenHostname, allowedHosts } = options;
  if (allowedHosts !== undefined && !Array.isArray(allowedHosts)) {
    throw new InvalidArgumentError('allowedHosts must be an array of host names', {
      details: { allowedHosts: String(allowedHosts) },
    });
  }
  const names = (allowedHosts ?? []).map(checkedHostName);
  const loopbackOnly = listenHostname !== undefined && isLoopback(listenHostname);
  if (!loopbackOnly && allowedHosts === undefined) return undefined;
  if (listenHostname !== undefined && !isWildcard(listenHostname)) names.push(bare(listenHostname.toLowerCase()));
  const exact = new Set(names.filter((name) => !name.startsWith('.')));
  const domains = names.filter((name) => name.startsWith('.'));
  return {
    allows(hostname) {
      const name = hostname.toLowerCase();
      if (isLoopback(name) || exact.has(bare(name))) return true;
      return domains.some((domain) => name.endsWith(domain) || name === domain.slice(1));
    },
  };
}

/** Whether a host name or address is this machine's loopback. */
export function isLoopback(hostname: string): boolean {
  const name = bare(hostname.toLowerCase());
  if (name === 'localhost' || name.endsWith('.localhost') || name === '::1') return true;
  if (name.startsWith('::ffff:')) return isLoopback(name.slice('::ffff:'.length));
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

function isWildcard(hostname: string): boolean {
  return hostname === '' || hostname === '0.0.0.0' || bare(hostname) === '::';
}

/** An IPv6 address without its brackets, a name without a trailing dot. */
function bare(hostname: string): string {
  if (hostname.startsWith('[') && hostname.endsWith(']')) return hostname.slice(1, -1);
  return hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
}

function checkedHostName(entry: unknown): string {
  if (typeof entry !== 'string' || !HOST_NAME.test(entry) || entry.length > 253) {
    throw new InvalidArgumentError(
      `allowedHosts entries must be host names without a scheme or port (e.g. 'weft.internal' or '.example.com'), not ${JSON.stringify(String(entry).slice(0, 100))}`,
    );
  }
  return bare(entry.toLowerCase());
}
