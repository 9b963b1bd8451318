/**
 * The CORS policy of `serve({ cors })`: which browser origins may call the API, the answer to their
 * preflight, and the `Access-Control-*` headers of the actual responses. Web-standard code only
 * (Request, Response, Headers, URL), compiled once from the options so that a bad configuration
 * throws before the server binds its port.
 *
 * Traps it avoids: it never sends `Access-Control-Allow-Origin: *` (it echoes the request's origin,
 * always with `Vary: Origin`, so a cache cannot hand one origin's answer to another); it compares
 * origins as (scheme, host, port) tuples, not strings, so `https://Dash.example:443/` in the
 * configuration still matches the `https://dash.example` a browser sends, while
 * `https://dash.example.evil.test` does not; and the opaque origin `null` (sandboxed iframes,
 * `file://` pages) never matches, not even `'*'`.
 */
import { InvalidArgumentError, type WeftError } from '../../core/errors.ts';
import { httpStatusOf, toWireError } from '../../protocol/wire-errors.ts';
import { CorsRequestNotAllowedError, OriginNotAllowedError } from '../server-errors.ts';

/**
 * `serve({ cors })`: the browser origins allowed to call the API from another origin, and what they
 * may send and read. Leave `cors` out when the browser client is served from the API's own origin.
 *
 * @example
 * const cors: CorsOptions = { allowedOrigins: ['https://dashboard.example.com'], credentials: true };
 */
export interface CorsOptions {
  /** Exact origins allowed, e.g. 'https://dashboard.example.com'; ['*'] = any origin (public, non-credentialed APIs only). */
  allowedOrigins: string[];
  /** Default: GET, POST, PATCH, DELETE, OPTIONS. */
  allowedMethods?: string[];
  /** Default: Content-Type, Accept (plus Authorization and X-API-Key when auth is configured and the origins are not the wildcard). */
  allowedHeaders?: string[];
  /** Response headers a browser script may read. Default: Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset. */
  exposedHeaders?: string[];
  /** Send Access-Control-Allow-Credentials: true (cookies / HTTP auth). Default false. */
  credentials?: boolean;
  /** Access-Control-Max-Age of preflight answers, seconds. Default 600. */
  maxAgeSeconds?: number;
}

/**
 * A compiled CORS policy: answers preflights (before authentication, since browsers never attach
 * credentials to them) and decorates every other response.
 *
 * @example
 * if (policy.isPreflight(request)) return policy.preflight(request);
 * return policy.apply(request, await handle(request));
 */
export interface CorsPolicy {
  /** OPTIONS with an Origin header and Access-Control-Request-Method. */
  isPreflight(request: Request): boolean;
  /** The answer to a preflight: 204 with the Access-Control-* headers for an allowed origin; 403 JSON `{ "error": { "code": "origin_not_allowed", "message": ... } }` with no Access-Control-* headers otherwise. */
  preflight(request: Request): Response;
  /** Adds Access-Control-Allow-Origin (the exact request origin, as sent), Access-Control-Allow-Credentials (if configured) and Access-Control-Expose-Headers to a response when the request's origin is allowed; always appends `Vary: Origin` (keeping existing Vary values). Returns a response with those headers (copy the response if its headers are immutable). */
  apply(request: Request, response: Response): Response;
  /** Whether an Origin header value is allowed (used later for WebSocket upgrades). `null` (header absent) → false. */
  allowsOrigin(origin: string | null): boolean;
}

const WILDCARD = '*';
const DEFAULT_METHODS = ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'];
const DEFAULT_HEADERS = ['Content-Type', 'Accept'];
const AUTH_HEADERS = ['Authorization', 'X-API-Key'];
const DEFAULT_EXPOSED_HEADERS = ['Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'];
const DEFAULT_MAX_AGE_SECONDS = 600;
const PREFLIGHT_VARY = ['Origin', 'Access-Control-Request-Method', 'Access-Control-Request-Headers'];
/** An HTTP token (RFC 9110 §5.6.2): what a method or a header name is made of. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/**
 * `scheme://host[:port]` with at most a trailing slash. Checked before `new URL`, which would
 * otherwise quietly accept `https:host`, `https://user@host`, `https://host?` or a backslash.
 */
const ORIGIN_SHAPE = /^https?:\/\/[^/\\?#@\s]+\/?$/i;
/** The methods Fetch upper-cases before sending (and no others: `patch` is sent as `patch`). */
const NORMALIZED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);

/**
 * Validates `serve({ cors })` at once, throwing `InvalidArgumentError` before the server binds, and
 * compiles it into a `CorsPolicy`. `authConfigured` says whether `serve({ auth })` is set: then
 * `Authorization` and `X-API-Key` are advertised to explicit origins (never to `'*'`).
 *
 * @example
 * const policy = compileCorsPolicy({ allowedOrigins: ['https://dashboard.example.com'] }, { authConfigured: true });
 * policy.allowsOrigin('https://dashboard.example.com'); // true
 * compileCorsPolicy({ allowedOrigins: ['*'], credentials: true }, { authConfigured: false }); // throws InvalidArgumentError
 */
export function compileCorsPolicy(options: CorsOptions, context: { authConfigured: boolean }): CorsPolicy {
  if (typeof options !== 'object' || options === null) throw configError('cors must be an object', 'cors', options);
  const origins = compileOrigins(options.allowedOrigins);
  const wildcard = origins === WILDCARD;

  const credentials = options.credentials ?? false;
  if (typeof credentials !== 'boolean') {
    throw configError('cors.credentials must be true or false', 'credentials', credentials);
  }
  if (credentials && wildcard) {
    throw configError(
      "cors: credentials: true cannot be combined with allowedOrigins: ['*'] (a wildcard origin is illegal for credentialed CORS); list the exact origins your browser clients are served from instead",
      'allowedOrigins',
      WILDCARD,
    );
  }

  const configuredHeaders = tokenList('allowedHeaders', options.allowedHeaders, DEFAULT_HEADERS);
  if (wildcard && configuredHeaders.some((name) => name.toLowerCase() === 'authorization')) {
    throw configError(
      "cors: allowedOrigins: ['*'] with Authorization in allowedHeaders would let any web origin send bearer tokens and read the response; list explicit origins instead, or drop Authorization from allowedHeaders if the API is genuinely public and unauthenticated",
      'allowedHeaders',
      configuredHeaders,
    );
  }
  const allowedHeaders =
    context.authConfigured && !wildcard
      ? withoutDuplicates([...configuredHeaders, ...AUTH_HEADERS])
      : configuredHeaders;
  // Methods are case-sensitive: de-duplicated exactly, after the browser's own normalization.
  const allowedMethods = [
    ...new Set(tokenList('allowedMethods', options.allowedMethods, DEFAULT_METHODS).map(normalizeMethod)),
  ];
  if (allowedMethods.length === 0) {
    throw configError(
      'cors.allowedMethods is empty; leave it out for the default or list at least one method',
      'allowedMethods',
      [],
    );
  }
  const exposedHeaders = tokenList('exposedHeaders', options.exposedHeaders, DEFAULT_EXPOSED_HEADERS);
  const maxAgeSeconds = options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS;
  if (typeof maxAgeSeconds !== 'number' || !Number.isSafeInteger(maxAgeSeconds) || maxAgeSeconds < 0) {
    throw configError('cors.maxAgeSeconds must be a non-negative integer (seconds)', 'maxAgeSeconds', maxAgeSeconds);
  }

  const allowedHeaderSet = new Set(allowedHeaders.map((name) => name.toLowerCase()));
  const allowedMethodSet = new Set(allowedMethods);
  const methodsValue = allowedMethods.join(', ');
  const headersValue = allowedHeaders.join(', ');
  const exposedValue = exposedHeaders.join(', ');

  const allowsOrigin = (origin: string | null): boolean => {
    if (origin === null) return false;
    const canonical = canonicalOrigin(origin);
    if (canonical === undefined) return false;
    return wildcard || origins.has(canonical);
  };

  return {
    isPreflight: (request) =>
      request.method === 'OPTIONS' &&
      request.headers.has('origin') &&
      request.headers.has('access-control-request-method'),

    preflight(request) {
      const origin = request.headers.get('origin');
      if (origin === null || !allowsOrigin(origin)) {
        return refusal(new OriginNotAllowedError());
      }
      const method = request.headers.get('access-control-request-method');
      if (method === null) {
        return refusal(
          new CorsRequestNotAllowedError('A CORS preflight must name its method in Access-Control-Request-Method'),
        );
      }
      // Compared case-sensitively, as the browser will compare its method with Allow-Methods.
      if (!allowedMethodSet.has(method)) {
        return refusal(new CorsRequestNotAllowedError(`Method '${method}' is not allowed for cross-origin requests`));
      }
      const refusedHeader = requestedHeaders(request).find((name) => !allowedHeaderSet.has(name));
      if (refusedHeader !== undefined) {
        return refusal(
          new CorsRequestNotAllowedError(`Request header '${refusedHeader}' is not allowed for cross-origin requests`),
        );
      }
      const headers = new Headers({
        'access-control-allow-origin': origin,
        'access-control-allow-methods': methodsValue,
        'access-control-max-age': String(maxAgeSeconds),
        vary: PREFLIGHT_VARY.join(', '),
      });
      if (headersValue !== '') headers.set('access-control-allow-headers', headersValue);
      if (credentials) headers.set('access-control-allow-credentials', 'true');
      return new Response(null, { status: 204, headers });
    },

    apply(request, response) {
      const origin = request.headers.get('origin');
      const allowedOrigin = origin !== null && allowsOrigin(origin) ? origin : undefined;
      return editHeaders(response, (headers) => {
        appendVary(headers, 'Origin');
        if (allowedOrigin === undefined) return;
        headers.set('access-control-allow-origin', allowedOrigin);
        if (credentials) headers.set('access-control-allow-credentials', 'true');
        if (exposedValue !== '') headers.set('access-control-expose-headers', exposedValue);
      });
    },

    allowsOrigin,
  };
}

/** `'*'` or the set of canonical allowed origins. */
function compileOrigins(allowedOrigins: unknown): typeof WILDCARD | Set<string> {
  if (!Array.isArray(allowedOrigins) || allowedOrigins.length === 0) {
    throw configError(
      "cors.allowedOrigins must list at least one origin, such as 'https://dashboard.example.com'; leave cors out for same-origin clients",
      'allowedOrigins',
      allowedOrigins,
    );
  }
  const entries: unknown[] = allowedOrigins;
  if (entries.includes(WILDCARD)) {
    if (entries.length > 1) {
      throw configError(
        "cors.allowedOrigins mixes '*' with explicit origins; '*' alone allows every origin, so use ['*'] or only the explicit origins",
        'allowedOrigins',
        entries,
      );
    }
    return WILDCARD;
  }
  const origins = new Set<string>();
  for (const entry of entries) {
    if (entry === 'null') {
      throw configError(
        "cors.allowedOrigins cannot contain 'null': it is the shared opaque origin of sandboxed iframes and file:// pages, which any site can produce",
        'allowedOrigins',
        entry,
      );
    }
    const canonical = typeof entry === 'string' ? canonicalOrigin(entry) : undefined;
    if (canonical === undefined) {
      throw configError(
        `cors.allowedOrigins entry ${JSON.stringify(entry) ?? String(entry)} is not an origin: write '*' or scheme://host[:port] with http or https and no path, query, fragment or credentials, e.g. 'https://dashboard.example.com'`,
        'allowedOrigins',
        entry,
      );
    }
    origins.add(canonical);
  }
  return origins;
}

/**
 * The (scheme, host, port) tuple of an http(s) origin, serialized (`https://host` or
 * `http://host:8080`: lower case, default port dropped), or `undefined` when it is not one.
 */
function canonicalOrigin(value: string): string | undefined {
  if (!ORIGIN_SHAPE.test(value)) return undefined;
  try {
    const url = new URL(value);
    return url.pathname === '/' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** A validated list option, or its default; header names are de-duplicated case-insensitively. */
function tokenList(option: string, value: unknown, fallback: readonly string[]): string[] {
  if (value === undefined) return [...fallback];
  if (!Array.isArray(value)) throw configError(`cors.${option} must be an array of names`, option, value);
  const entries: unknown[] = value;
  for (const entry of entries) {
    if (entry === WILDCARD) {
      throw configError(`cors.${option} cannot contain '*'; list the names explicitly`, option, entry);
    }
    if (typeof entry !== 'string' || !TOKEN.test(entry)) {
      throw configError(
        `cors.${option} entry ${JSON.stringify(entry) ?? String(entry)} is not a valid HTTP token (a non-empty name without spaces or separators)`,
        option,
        entry,
      );
    }
  }
  return option === 'allowedMethods' ? (entries as string[]) : withoutDuplicates(entries as string[]);
}

/** Keeps the first spelling of each name, ignoring case (header names are case-insensitive). */
function withoutDuplicates(names: string[]): string[] {
  const seen = new Set<string>();
  return names.filter((name) => {
    const key = name.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Upper-cases the methods a browser upper-cases, so `get` in the options matches what it sends. */
function normalizeMethod(method: string): string {
  const upper = method.toUpperCase();
  return NORMALIZED_METHODS.has(upper) ? upper : method;
}

/** The lower-cased names of Access-Control-Request-Headers (a comma-separated list). */
function requestedHeaders(request: Request): string[] {
  const value = request.headers.get('access-control-request-headers') ?? '';
  return value
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
}

/** Adds `name` to Vary unless it is there already (or Vary is `*`, which covers it). */
function appendVary(headers: Headers, name: string): void {
  const existing = headers.get('vary');
  if (existing === null || existing.trim() === '') {
    headers.set('vary', name);
    return;
  }
  const present = existing.split(',').map((entry) => entry.trim().toLowerCase());
  if (present.includes('*') || present.includes(name.toLowerCase())) return;
  headers.set('vary', `${existing}, ${name}`);
}

/**
 * Edits a response's headers in place, or a copy's when they are immutable (a `fetch` response or
 * `Response.redirect` in browsers and Node). Not copied by default: a copy turns the body into a
 * stream and can lose the runtime's fast paths (known length, sendfile).
 */
function editHeaders(response: Response, edit: (headers: Headers) => void): Response {
  try {
    edit(response.headers);
    return response;
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
  }
  // A network error (status 0) cannot be rebuilt and means nothing to a browser script anyway.
  if (response.status < 200 || response.status > 599) return response;
  const copy = new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers: new Headers(response.headers),
  });
  edit(copy.headers);
  return copy;
}

/** A 403 with a Weft wire error and, deliberately, no Access-Control-* headers. */
/** A refused preflight in the API's error form, with its status from the one error table. */
function refusal(error: WeftError): Response {
  return Response.json(
    { error: toWireError(error) },
    { status: httpStatusOf(error.code), headers: { vary: PREFLIGHT_VARY.join(', ') } },
  );
}

function configError(message: string, option: string, value: unknown): InvalidArgumentError {
  return new InvalidArgumentError(message, { details: { option, value } });
}
