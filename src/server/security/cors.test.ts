import { describe, expect, test } from 'bun:test';
import { InvalidArgumentError } from '../../core/errors.ts';
import { compileCorsPolicy, type CorsOptions } from './cors.ts';

const DASHBOARD = 'https://dashboard.example.com';
const URL_ = 'http://weft.test/api/v1/workflows';

const policyOf = (options: Partial<CorsOptions> = {}, authConfigured = false) =>
  compileCorsPolicy({ allowedOrigins: [DASHBOARD], ...options }, { authConfigured });
const request = (origin?: string, init: RequestInit = {}) =>
  new Request(URL_, { ...init, headers: { ...(origin === undefined ? {} : { origin }), ...(init.headers as object) } });
const preflightRequest = (origin: string | undefined, method = 'POST', requestHeaders?: string) =>
  request(origin, {
    method: 'OPTIONS',
    headers: {
      'access-control-request-method': method,
      ...(requestHeaders === undefined ? {} : { 'access-control-request-headers': requestHeaders }),
    },
  });
const accessControl = (headers: Headers) =>
  Object.fromEntries([...headers].filter(([name]) => name.startsWith('access-control-')));
const errorCode = async (response: Response) => ((await response.json()) as { error: { code: string } }).error.code;
const configError = (options: CorsOptions, authConfigured = false): InvalidArgumentError => {
  try {
    compileCorsPolicy(options, { authConfigured });
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return error as InvalidArgumentError;
  }
  throw new Error(`compileCorsPolicy accepted ${JSON.stringify(options)}`);
};
/** A response whose headers throw on mutation, as a `fetch` response's do in browsers and Node. */
const withImmutableHeaders = (response: Response) => {
  const headers = new Headers(response.headers);
  for (const method of ['set', 'append', 'delete']) {
    Object.defineProperty(headers, method, {
      value: () => {
        throw new TypeError('immutable');
      },
    });
  }
  Object.defineProperty(response, 'headers', { value: headers });
  return response;
};

describe('origin matching', () => {
  test('a configured origin matches its canonical form whatever its case, default port or trailing slash', () => {
    const policy = policyOf({ allowedOrigins: ['HTTPS://Dashboard.Example.com:443/'] });
    expect(policy.allowsOrigin('https://dashboard.example.com')).toBe(true);
  });

  test('a request origin written with upper case, the default port or a trailing slash matches too', () => {
    const policy = policyOf();
    expect(policy.allowsOrigin('HTTPS://Dashboard.Example.com:443/')).toBe(true);
    expect(policy.allowsOrigin('https://dashboard.example.com/')).toBe(true);
  });

  test('port 80 is the default for http', () => {
    const policy = policyOf({ allowedOrigins: ['http://localhost:80'] });
    expect(policy.allowsOrigin('http://localhost')).toBe(true);
    expect(policyOf({ allowedOrigins: ['http://localhost'] }).allowsOrigin('http://localhost:80')).toBe(true);
    expect(policy.allowsOrigin('http://localhost:8080')).toBe(false);
  });

  test('a different port, scheme, subdomain or suffix does not match', () => {
    const policy = policyOf();
    for (const origin of [
      'https://dashboard.example.com:8443',
      'http://dashboard.example.com',
      'https://evil.dashboard.example.com',
      'https://example.com',
      'https://dashboard.example.com.evil.test',
    ]) {
      expect(policy.allowsOrigin(origin)).toBe(false);
    }
  });

  test('Origin: null and an absent Origin never match, not even the wildcard', () => {
    for (const policy of [policyOf(), policyOf({ allowedOrigins: ['*'] })]) {
      expect(policy.allowsOrigin('null')).toBe(false);
      expect(policy.allowsOrigin(null)).toBe(false);
    }
  });

  test('a request origin that is not an http(s) origin never matches, not even the wildcard', () => {
    const wildcard = policyOf({ allowedOrigins: ['*'] });
    for (const origin of [
      '',
      'not a url',
      'https://dashboard.example.com, https://evil.test',
      'https://dashboard.example.com/path',
      'https://dashboard.example.com?x=1',
      'https://user@dashboard.example.com',
      'chrome-extension://abcdef',
      'https:dashboard.example.com',
    ]) {
      expect(wildcard.allowsOrigin(origin)).toBe(false);
      expect(policyOf().allowsOrigin(origin)).toBe(false);
    }
  });
});

describe('apply() on actual responses', () => {
  test('an allowed origin gets its exact origin echoed, the exposed headers and Vary: Origin', () => {
    const response = policyOf().apply(request(DASHBOARD), new Response('ok'));
    expect(accessControl(response.headers)).toEqual({
      'access-control-allow-origin': DASHBOARD,
      'access-control-expose-headers': 'Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset',
    });
    expect(response.headers.get('vary')).toBe('Origin');
  });

  test('the origin is echoed as sent, even when it only matches canonically', () => {
    const response = policyOf().apply(request('https://dashboard.example.com:443'), new Response('ok'));
    expect(response.headers.get('access-control-allow-origin')).toBe('https://dashboard.example.com:443');
  });

  test('the wildcard echoes the exact request origin and never sends *', async () => {
    const policy = policyOf({ allowedOrigins: ['*'] });
    const response = policy.apply(request('https://anyone.example'), new Response('ok'));
    expect(response.headers.get('access-control-allow-origin')).toBe('https://anyone.example');
    expect(response.headers.get('vary')).toBe('Origin');
    const answer = policy.preflight(preflightRequest('https://anyone.example'));
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBe('https://anyone.example');
    expect(await answer.text()).toBe('');
  });

  test('Vary: Origin is appended to an existing Vary, once', () => {
    const policy = policyOf();
    const varied = policy.apply(request(DASHBOARD), new Response('ok', { headers: { vary: 'Accept' } }));
    expect(varied.headers.get('vary')).toBe('Accept, Origin');
    const again = policy.apply(request(DASHBOARD), varied);
    expect(again.headers.get('vary')).toBe('Accept, Origin');
    const star = policy.apply(request(DASHBOARD), new Response('ok', { headers: { vary: '*' } }));
    expect(star.headers.get('vary')).toBe('*');
  });

  test('a disallowed or absent origin gets no Access-Control-* headers, but still Vary: Origin', () => {
    const policy = policyOf({ credentials: true });
    for (const origin of ['https://evil.test', 'null', undefined]) {
      const response = policy.apply(request(origin), new Response('ok', { headers: { vary: 'Accept' } }));
      expect(accessControl(response.headers)).toEqual({});
      expect(response.headers.get('vary')).toBe('Accept, Origin');
    }
  });

  test('Access-Control-Allow-Credentials is sent only when credentials is configured', () => {
    const without = policyOf().apply(request(DASHBOARD), new Response('ok'));
    expect(without.headers.has('access-control-allow-credentials')).toBe(false);
    const withCredentials = policyOf({ credentials: true }).apply(request(DASHBOARD), new Response('ok'));
    expect(withCredentials.headers.get('access-control-allow-credentials')).toBe('true');
  });

  test('configured exposed headers replace the default; an empty list sends none', () => {
    const custom = policyOf({ exposedHeaders: ['X-Request-Id'] }).apply(request(DASHBOARD), new Response('ok'));
    expect(custom.headers.get('access-control-expose-headers')).toBe('X-Request-Id');
    const none = policyOf({ exposedHeaders: [] }).apply(request(DASHBOARD), new Response('ok'));
    expect(none.headers.has('access-control-expose-headers')).toBe(false);
  });

  test('a response with immutable headers is copied with its status, headers and body', async () => {
    const original = withImmutableHeaders(new Response('created', { status: 201, headers: { 'x-run': 'o-1' } }));
    expect(() => original.headers.set('x', 'y')).toThrow(TypeError);
    const response = policyOf().apply(request(DASHBOARD), original);
    expect(response).not.toBe(original);
    expect(response.status).toBe(201);
    expect(response.headers.get('x-run')).toBe('o-1');
    expect(response.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
    expect(response.headers.get('vary')).toBe('Origin');
    expect(await response.text()).toBe('created');
  });

  test('a redirect keeps its status and Location', () => {
    for (const redirect of [
      Response.redirect('https://weft.test/next', 302),
      withImmutableHeaders(Response.redirect('https://weft.test/next', 302)),
    ]) {
      const response = policyOf().apply(request(DASHBOARD), redirect);
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe('https://weft.test/next');
      expect(response.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
    }
  });

  test('a network error with immutable headers is returned unchanged', () => {
    const error = withImmutableHeaders(Response.error());
    expect(policyOf().apply(request(DASHBOARD), error)).toBe(error);
  });
});

describe('preflight', () => {
  test('isPreflight needs OPTIONS, an Origin and Access-Control-Request-Method', () => {
    const policy = policyOf();
    expect(policy.isPreflight(preflightRequest(DASHBOARD))).toBe(true);
    expect(policy.isPreflight(preflightRequest('https://evil.test'))).toBe(true);
    expect(policy.isPreflight(request(DASHBOARD, { method: 'OPTIONS' }))).toBe(false);
    expect(policy.isPreflight(preflightRequest(undefined))).toBe(false);
    expect(policy.isPreflight(request(DASHBOARD, { headers: { 'access-control-request-method': 'POST' } }))).toBe(
      false,
    );
  });

  test('an allowed origin gets 204 with every Access-Control-* header and the preflight Vary', async () => {
    const response = policyOf().preflight(preflightRequest(DASHBOARD, 'PATCH', 'content-type'));
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    expect(accessControl(response.headers)).toEqual({
      'access-control-allow-origin': DASHBOARD,
      'access-control-allow-methods': 'GET, POST, PATCH, DELETE, OPTIONS',
      'access-control-allow-headers': 'Content-Type, Accept',
      'access-control-max-age': '600',
    });
    expect(response.headers.get('vary')).toBe('Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
  });

  test('configured methods, headers, max age and credentials are what the preflight advertises', () => {
    const policy = policyOf({
      allowedMethods: ['get', 'PUT'],
      allowedHeaders: ['X-Trace'],
      maxAgeSeconds: 0,
      credentials: true,
    });
    const response = policy.preflight(preflightRequest(DASHBOARD, 'GET', 'x-trace'));
    expect(accessControl(response.headers)).toEqual({
      'access-control-allow-origin': DASHBOARD,
      'access-control-allow-methods': 'GET, PUT',
      'access-control-allow-headers': 'X-Trace',
      'access-control-max-age': '0',
      'access-control-allow-credentials': 'true',
    });
  });

  test('a disallowed origin gets 403 origin_not_allowed without Access-Control-* headers', async () => {
    const policy = policyOf({ credentials: true });
    for (const origin of ['https://evil.test', 'null']) {
      const response = policy.preflight(preflightRequest(origin));
      expect(response.status).toBe(403);
      expect(accessControl(response.headers)).toEqual({});
      expect(await errorCode(response)).toBe('origin_not_allowed');
    }
  });

  test('a method that is not allowed gets 403 cors_request_not_allowed without Access-Control-* headers', async () => {
    const policy = policyOf({ credentials: true });
    for (const method of ['PUT', 'patch']) {
      const response = policy.preflight(preflightRequest(DASHBOARD, method));
      expect(response.status).toBe(403);
      expect(accessControl(response.headers)).toEqual({});
      expect(await errorCode(response)).toBe('cors_request_not_allowed');
    }
  });

  test('requested headers are compared case-insensitively and any unknown one is refused', async () => {
    const policy = policyOf();
    expect(policy.preflight(preflightRequest(DASHBOARD, 'POST', 'CONTENT-TYPE, accept,')).status).toBe(204);
    const refused = policy.preflight(preflightRequest(DASHBOARD, 'POST', 'content-type, x-custom'));
    expect(refused.status).toBe(403);
    expect(accessControl(refused.headers)).toEqual({});
    expect(await errorCode(refused)).toBe('cors_request_not_allowed');
  });
});

describe('advertising the auth headers', () => {
  test('with auth configured, Authorization and X-API-Key are advertised and may be requested', () => {
    const policy = policyOf({}, true);
    const response = policy.preflight(preflightRequest(DASHBOARD, 'POST', 'authorization, x-api-key, content-type'));
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-headers')).toBe('Content-Type, Accept, Authorization, X-API-Key');
  });

  test('they are added to a configured list without duplicates', () => {
    const policy = policyOf({ allowedHeaders: ['x-api-key', 'X-Trace', 'x-trace'] }, true);
    const response = policy.preflight(preflightRequest(DASHBOARD));
    expect(response.headers.get('access-control-allow-headers')).toBe('x-api-key, X-Trace, Authorization');
  });

  test('without auth they are not advertised, and a preflight asking for Authorization is refused', () => {
    const policy = policyOf();
    expect(policy.preflight(preflightRequest(DASHBOARD)).headers.get('access-control-allow-headers')).toBe(
      'Content-Type, Accept',
    );
    expect(policy.preflight(preflightRequest(DASHBOARD, 'POST', 'authorization')).status).toBe(403);
  });

  test('with the wildcard origin they are not advertised even when auth is configured', () => {
    const policy = policyOf({ allowedOrigins: ['*'] }, true);
    const response = policy.preflight(preflightRequest('https://anyone.example'));
    expect(response.headers.get('access-control-allow-headers')).toBe('Content-Type, Accept');
  });
});

describe('combinations that fail fast', () => {
  test("credentials: true with allowedOrigins ['*'] throws, telling to list explicit origins", () => {
    const error = configError({ allowedOrigins: ['*'], credentials: true });
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toContain('list the exact origins');
  });

  test("allowedOrigins ['*'] with Authorization in allowedHeaders throws, in any case", () => {
    for (const name of ['Authorization', 'authorization', 'AUTHORIZATION']) {
      const error = configError({ allowedOrigins: ['*'], allowedHeaders: ['Content-Type', name] });
      expect(error.message).toContain('drop Authorization');
      expect(error.message).toContain('list explicit origins');
    }
  });
});

describe('configuration validation', () => {
  test('an empty allowedOrigins throws', () => {
    expect(configError({ allowedOrigins: [] }).message).toContain('at least one origin');
  });

  test('an origin entry that is not an http(s) origin throws, naming the entry', () => {
    for (const entry of [
      'garbage',
      'https://dashboard.example.com/app',
      'https://dashboard.example.com?x=1',
      'https://dashboard.example.com#top',
      'https://user:pass@dashboard.example.com',
      'ftp://files.example.com',
      'https:dashboard.example.com',
      ' https://dashboard.example.com',
      '',
    ]) {
      expect(configError({ allowedOrigins: [entry] }).message).toContain(JSON.stringify(entry));
    }
    expect(configError({ allowedOrigins: [42 as unknown as string] }).message).toContain('42');
  });

  test("'null' as a configured origin throws", () => {
    expect(configError({ allowedOrigins: ['null'] }).message).toContain("'null'");
  });

  test("'*' mixed with explicit origins throws", () => {
    expect(configError({ allowedOrigins: ['*', DASHBOARD] }).message).toContain("'*'");
  });

  test('method and header lists must hold non-empty HTTP tokens, and no *', () => {
    for (const option of ['allowedMethods', 'allowedHeaders', 'exposedHeaders'] as const) {
      for (const entry of ['', 'Content Type', 'X:Y', '*', 7 as unknown as string]) {
        expect(configError({ allowedOrigins: [DASHBOARD], [option]: [entry] }).message).toContain(option);
      }
      expect(configError({ allowedOrigins: [DASHBOARD], [option]: 'GET' as unknown as string[] }).message).toContain(
        option,
      );
    }
    expect(configError({ allowedOrigins: [DASHBOARD], allowedMethods: [] }).message).toContain('allowedMethods');
  });

  test('maxAgeSeconds must be a non-negative integer', () => {
    for (const maxAgeSeconds of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '600' as unknown as number]) {
      expect(configError({ allowedOrigins: [DASHBOARD], maxAgeSeconds }).message).toContain('maxAgeSeconds');
    }
  });

  test('credentials must be a boolean', () => {
    const error = configError({ allowedOrigins: [DASHBOARD], credentials: 'true' as unknown as boolean });
    expect(error.message).toContain('credentials');
  });
});
