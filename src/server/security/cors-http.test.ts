/**
 * `serve({ cors })` from a browser's side, over real HTTP: every sentence of the guide's CORS
 * section, checked with `fetch` against a server on port 0 (the policy's own corner cases are in
 * cors.test.ts). Trap it avoids: trusting the policy's unit tests for what the wire shows — the
 * handler must answer preflights before routing and authentication and decorate every response,
 * errors included.
 */
import { describe, expect, test } from 'bun:test';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { AuthAuditEvent, AuthConfig } from './auth-config.ts';
import { parsePrometheusText, sampleValue } from '../../testing/prometheus-text.ts';
import { MetricName } from '../index.ts';
import { testServers } from '../../testing/test-servers.ts';

const DASHBOARD = 'https://dashboard.example.com';
const OTHER = 'https://evil.example.net';
const KEY = 'cors-test-key-0123456789';
const DEFAULT_METHODS = 'GET, POST, PATCH, DELETE, OPTIONS';
const DEFAULT_EXPOSED = 'Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset';

const { start, expectRefusedBeforeBinding } = testServers();

/** API key auth whose audit events are collected instead of printed. */
function keyAuth(events: AuthAuditEvent[] = []): AuthConfig {
  return { apiKeys: [KEY], auditSink: (event) => events.push(event) };
}

function get(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { headers });
}

/** A browser's preflight: OPTIONS with Origin and Access-Control-Request-Method (and -Headers). */
function preflight(url: string, origin: string, method = 'POST', requestHeaders?: string): Promise<Response> {
  const headers: Record<string, string> = { origin, 'access-control-request-method': method };
  if (requestHeaders !== undefined) headers['access-control-request-headers'] = requestHeaders;
  return fetch(url, { method: 'OPTIONS', headers });
}

/** The names of the Access-Control-* headers of a response, sorted. */
function accessControlHeaders(response: Response): string[] {
  return [...response.headers.keys()].filter((name) => name.toLowerCase().startsWith('access-control-')).sort();
}

function varyOf(response: Response): string[] {
  return (response.headers.get('vary') ?? '')
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry !== '');
}

async function errorCode(response: Response): Promise<unknown> {
  return ((await response.json()) as { error?: { code?: unknown } }).error?.code;
}

describe('without cors', () => {
  test('no response carries an Access-Control-* header, even to a request with an Origin', async () => {
    const { url } = await start({});
    const withOrigin = { origin: DASHBOARD };

    const health = await get(`${url}/api/v1/health`, withOrigin);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(accessControlHeaders(health)).toEqual([]);
    expect(health.headers.get('vary')).toBeNull();

    const list = await get(`${url}/api/v1/workflows`, withOrigin);
    expect(list.status).toBe(200);
    expect(accessControlHeaders(list)).toEqual([]);

    const missing = await get(`${url}/api/v1/no/such/route`, withOrigin);
    expect(missing.status).toBe(404);
    expect(await errorCode(missing)).toBe('not_found');
    expect(accessControlHeaders(missing)).toEqual([]);
    expect(missing.headers.get('vary')).toBeNull();
  });

  test('a preflight-shaped OPTIONS is not answered as a preflight: the API gives its 405 or 404', async () => {
    const { url } = await start({});

    const onRoute = await preflight(`${url}/api/v1/workflows`, DASHBOARD, 'POST', 'content-type');
    expect(onRoute.status).toBe(405);
    expect(await errorCode(onRoute)).toBe('method_not_allowed');
    expect(onRoute.headers.get('allow')).toBe('GET, POST');
    expect(accessControlHeaders(onRoute)).toEqual([]);

    const offRoute = await preflight(`${url}/api/v1/no/such/route`, DASHBOARD);
    expect(offRoute.status).toBe(404);
    expect(await errorCode(offRoute)).toBe('not_found');
    expect(accessControlHeaders(offRoute)).toEqual([]);
  });

  test('same-origin requests work without any configuration', async () => {
    const { url } = await start({});
    const variants: Record<string, string>[] = [{}, { origin: url }];
    for (const headers of variants) {
      const health = await get(`${url}/api/v1/health`, headers);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      const rpc = await fetch(`${url}/api/jsonrpc`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'weft.system.health' }),
      });
      expect(rpc.status).toBe(200);
      expect(await rpc.json()).toEqual({ jsonrpc: '2.0', id: 1, result: { status: 'ok' } });
      expect(accessControlHeaders(rpc)).toEqual([]);
    }
  });
});

describe('Access-Control-Allow-Origin is never *', () => {
  test("allowedOrigins ['*'] echoes each request's exact origin, on actual responses and preflights", async () => {
    const { url } = await start({ cors: { allowedOrigins: ['*'] } });
    for (const origin of [DASHBOARD, 'http://localhost:5173', OTHER]) {
      const health = await get(`${url}/api/v1/health`, { origin });
      expect(health.status).toBe(200);
      expect(health.headers.get('access-control-allow-origin')).toBe(origin);
      expect(varyOf(health)).toContain('origin');

      const answer = await preflight(`${url}/api/v1/workflows`, origin, 'POST', 'content-type');
      expect(answer.status).toBe(204);
      expect(answer.headers.get('access-control-allow-origin')).toBe(origin);
      expect(varyOf(answer)).toContain('origin');
    }
  });

  test('an explicit allowlist echoes the exact origin too, never *', async () => {
    const { url } = await start({ cors: { allowedOrigins: [DASHBOARD, 'http://localhost:5173'] } });
    for (const origin of [DASHBOARD, 'http://localhost:5173']) {
      const health = await get(`${url}/api/v1/health`, { origin });
      expect(health.headers.get('access-control-allow-origin')).toBe(origin);
    }
  });
});

describe('preflight with cors and auth', () => {
  test('a preflight without any credential is answered 204 before authentication, advertising Authorization', async () => {
    const events: AuthAuditEvent[] = [];
    const { url } = await start({ auth: keyAuth(events), cors: { allowedOrigins: [DASHBOARD] } });

    for (const path of ['/api/v1/workflows', '/api/jsonrpc']) {
      const answer = await preflight(`${url}${path}`, DASHBOARD, 'POST', 'authorization, content-type');
      expect(answer.status).toBe(204);
      expect(await answer.text()).toBe('');
      expect(answer.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
      expect(varyOf(answer)).toContain('origin');
      expect(answer.headers.get('access-control-allow-methods')).toBe(DEFAULT_METHODS);
      expect(answer.headers.get('access-control-allow-headers')).toBe('Content-Type, Accept, Authorization, X-API-Key');
      expect(answer.headers.get('access-control-max-age')).toBe('600');
      expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
    }
    // No credential was examined: nothing was audited, and the same path without a key is a 401.
    expect(events).toEqual([]);
    const actual = await get(`${url}/api/v1/workflows`, { origin: DASHBOARD });
    expect(actual.status).toBe(401);
    expect(events.map((event) => event.outcome)).toEqual(['failure']);
  });

  test('with auth, Authorization is advertised even when allowedHeaders is configured without it', async () => {
    const { url } = await start({
      auth: keyAuth(),
      cors: { allowedOrigins: [DASHBOARD], allowedHeaders: ['Content-Type'] },
    });
    const answer = await preflight(`${url}/api/v1/workflows`, DASHBOARD, 'GET', 'authorization');
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-headers')).toBe('Content-Type, Authorization, X-API-Key');
  });

  test('without auth, Authorization is not advertised, and a preflight asking for it is refused', async () => {
    const { url } = await start({ cors: { allowedOrigins: [DASHBOARD] } });
    const answer = await preflight(`${url}/api/v1/workflows`, DASHBOARD, 'POST', 'content-type');
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-headers')).toBe('Content-Type, Accept');

    const asking = await preflight(`${url}/api/v1/workflows`, DASHBOARD, 'POST', 'authorization');
    expect(asking.status).toBe(403);
    expect(await errorCode(asking)).toBe('cors_request_not_allowed');
    expect(accessControlHeaders(asking)).toEqual([]);
  });
});

describe('actual requests with cors', () => {
  test('an allowed origin gets its exact origin echoed with Vary: Origin, on successes and errors alike', async () => {
    const { url } = await start({ auth: keyAuth(), cors: { allowedOrigins: [DASHBOARD] } });
    const cases: [string, Record<string, string>, number][] = [
      ['/api/v1/health', {}, 200],
      ['/api/v1/workflows', { authorization: `Bearer ${KEY}` }, 200],
      ['/api/v1/workflows', {}, 401],
      ['/api/v1/workflows', { authorization: 'Bearer wrong-key' }, 401],
      ['/api/v1/workflows/missing-run', { authorization: `Bearer ${KEY}` }, 404],
      ['/api/v1/no/such/route', {}, 404],
    ];
    for (const [path, headers, status] of cases) {
      const response = await get(`${url}${path}`, { ...headers, origin: DASHBOARD });
      expect(`${path} ${response.status}`).toBe(`${path} ${status}`);
      expect(response.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
      expect(response.headers.get('access-control-expose-headers')).toBe(DEFAULT_EXPOSED);
      expect(varyOf(response)).toContain('origin');
    }
  });

  test('a disallowed origin gets no Access-Control-* headers, on successes and errors alike', async () => {
    const { url } = await start({ auth: keyAuth(), cors: { allowedOrigins: [DASHBOARD] } });
    const cases: [string, Record<string, string>, number][] = [
      ['/api/v1/health', {}, 200],
      ['/api/v1/workflows', { authorization: `Bearer ${KEY}` }, 200],
      ['/api/v1/workflows', {}, 401],
      ['/api/v1/no/such/route', {}, 404],
    ];
    for (const [path, headers, status] of cases) {
      const response = await get(`${url}${path}`, { ...headers, origin: OTHER });
      expect(`${path} ${response.status}`).toBe(`${path} ${status}`);
      expect(accessControlHeaders(response)).toEqual([]);
      // Still Vary: Origin, so a shared cache never hands this answer to an allowed origin.
      expect(varyOf(response)).toContain('origin');
    }
    const noOrigin = await get(`${url}/api/v1/health`);
    expect(noOrigin.status).toBe(200);
    expect(accessControlHeaders(noOrigin)).toEqual([]);
  });

  test('a preflight from a disallowed origin is a 403 without Access-Control-* headers', async () => {
    const { url } = await start({ auth: keyAuth(), cors: { allowedOrigins: [DASHBOARD] } });
    for (const path of ['/api/v1/workflows', '/api/v1/health', '/api/jsonrpc']) {
      const answer = await preflight(`${url}${path}`, OTHER, 'POST', 'content-type');
      expect(answer.status).toBe(403);
      expect(answer.headers.get('content-type')).toStartWith('application/json');
      expect(await errorCode(answer)).toBe('origin_not_allowed');
      expect(accessControlHeaders(answer)).toEqual([]);
    }
  });
});

describe('credentials', () => {
  test('credentials: true sends Access-Control-Allow-Credentials: true to allowed origins only', async () => {
    const { url } = await start({ auth: keyAuth(), cors: { allowedOrigins: [DASHBOARD], credentials: true } });
    const allowed = await get(`${url}/api/v1/workflows`, { origin: DASHBOARD, authorization: `Bearer ${KEY}` });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    const unauthenticated = await get(`${url}/api/v1/workflows`, { origin: DASHBOARD });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('access-control-allow-credentials')).toBe('true');
    const answer = await preflight(`${url}/api/v1/workflows`, DASHBOARD, 'GET', 'authorization');
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-credentials')).toBe('true');

    const disallowed = await get(`${url}/api/v1/workflows`, { origin: OTHER, authorization: `Bearer ${KEY}` });
    expect(disallowed.status).toBe(200);
    expect(disallowed.headers.get('access-control-allow-credentials')).toBeNull();
  });

  test('without credentials, Access-Control-Allow-Credentials is never sent', async () => {
    const { url } = await start({ auth: keyAuth(), cors: { allowedOrigins: [DASHBOARD] } });
    const allowed = await get(`${url}/api/v1/workflows`, { origin: DASHBOARD, authorization: `Bearer ${KEY}` });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    const answer = await preflight(`${url}/api/v1/workflows`, DASHBOARD, 'GET', 'authorization');
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
  });
});

describe('origin matching', () => {
  test('origins match as (scheme, host, port) tuples: case, default port and trailing slash do not matter', async () => {
    const { url } = await start({ cors: { allowedOrigins: ['https://Dashboard.Example.com:443/'] } });
    const health = await get(`${url}/api/v1/health`, { origin: DASHBOARD });
    expect(health.status).toBe(200);
    expect(health.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
    const answer = await preflight(`${url}/api/v1/workflows`, DASHBOARD, 'POST', 'content-type');
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
  });

  test('a request origin with upper case, the default port or a trailing slash matches too, echoed as sent', async () => {
    const { url } = await start({ cors: { allowedOrigins: [DASHBOARD] } });
    for (const origin of [
      'https://DASHBOARD.example.com',
      'https://dashboard.example.com:443',
      'https://dashboard.example.com/',
    ]) {
      const health = await get(`${url}/api/v1/health`, { origin });
      expect(health.status).toBe(200);
      expect(health.headers.get('access-control-allow-origin')).toBe(origin);
      const answer = await preflight(`${url}/api/v1/workflows`, origin, 'POST', 'content-type');
      expect(answer.status).toBe(204);
      expect(answer.headers.get('access-control-allow-origin')).toBe(origin);
    }
  });

  test('a different port or scheme is another origin', async () => {
    const { url } = await start({ cors: { allowedOrigins: ['https://Dashboard.Example.com:443/'] } });
    for (const origin of [
      'https://dashboard.example.com:8443',
      'http://dashboard.example.com',
      'https://dashboard.example.com.evil.test',
    ]) {
      const health = await get(`${url}/api/v1/health`, { origin });
      expect(health.status).toBe(200);
      expect(accessControlHeaders(health)).toEqual([]);
      const answer = await preflight(`${url}/api/v1/workflows`, origin);
      expect(answer.status).toBe(403);
      expect(accessControlHeaders(answer)).toEqual([]);
    }
  });

  test('Origin: null never matches, not even the wildcard', async () => {
    for (const allowedOrigins of [[DASHBOARD], ['*']]) {
      const { url } = await start({ cors: { allowedOrigins } });
      const health = await get(`${url}/api/v1/health`, { origin: 'null' });
      expect(health.status).toBe(200);
      expect(accessControlHeaders(health)).toEqual([]);
      const answer = await preflight(`${url}/api/v1/workflows`, 'null', 'POST', 'content-type');
      expect(answer.status).toBe(403);
      expect(await errorCode(answer)).toBe('origin_not_allowed');
      expect(accessControlHeaders(answer)).toEqual([]);
    }
  });
});

describe('combinations that fail fast', () => {
  test("credentials: true with allowedOrigins ['*'] throws InvalidArgumentError before binding the port", async () => {
    await expectRefusedBeforeBinding(
      { unauthenticatedAccess: 'allow', cors: { allowedOrigins: ['*'], credentials: true } },
      InvalidArgumentError,
    );
  });

  test("allowedOrigins ['*'] with Authorization in allowedHeaders throws InvalidArgumentError before binding the port", async () => {
    await expectRefusedBeforeBinding(
      {
        unauthenticatedAccess: 'allow',
        cors: { allowedOrigins: ['*'], allowedHeaders: ['Content-Type', 'Authorization'] },
      },
      InvalidArgumentError,
    );
  });

  test("allowedOrigins ['*'] alone is accepted for a public, non-credentialed API", async () => {
    const { url } = await start({ cors: { allowedOrigins: ['*'], allowedHeaders: ['Content-Type'] } });
    const health = await get(`${url}/api/v1/health`, { origin: OTHER });
    expect(health.status).toBe(200);
    expect(health.headers.get('access-control-allow-origin')).toBe(OTHER);
    expect(health.headers.get('access-control-allow-credentials')).toBeNull();
  });
});

describe('rate limit headers', () => {
  test('an allowed cross-origin response exposes X-RateLimit-* and Retry-After, and preflights are not counted', async () => {
    // Without auth every request is counted against the client address, preflights included if they were.
    const { url } = await start({
      rateLimit: { maxRequests: 2, windowMs: 3_600_000 },
      cors: { allowedOrigins: [DASHBOARD] },
    });
    const headers = { origin: DASHBOARD };
    for (let i = 0; i < 5; i++) {
      expect((await preflight(`${url}/api/v1/workflows`, DASHBOARD, 'GET', 'content-type')).status).toBe(204);
    }

    const first = await get(`${url}/api/v1/workflows`, headers);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('1');
    expect(first.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
    expect(first.headers.get('access-control-expose-headers')).toBe(DEFAULT_EXPOSED);

    expect((await get(`${url}/api/v1/workflows`, headers)).status).toBe(200);
    const refused = await get(`${url}/api/v1/workflows`, headers);
    expect(refused.status).toBe(429);
    expect(await errorCode(refused)).toBe('rate_limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(refused.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
    const exposed = (refused.headers.get('access-control-expose-headers') ?? '').split(', ');
    expect(exposed).toEqual(['Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset']);
  });

  test('configured exposedHeaders replace the default list on the wire', async () => {
    const { url } = await start({
      rateLimit: { maxRequests: 10, windowMs: 3_600_000 },
      cors: { allowedOrigins: [DASHBOARD], exposedHeaders: ['X-RateLimit-Remaining'] },
    });
    const response = await get(`${url}/api/v1/workflows`, { origin: DASHBOARD });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-expose-headers')).toBe('X-RateLimit-Remaining');
  });
});

describe('metrics', () => {
  test('preflights are counted under the route label "preflight", not under the path they name', async () => {
    const { url } = await start({ cors: { allowedOrigins: [DASHBOARD] } });
    expect((await preflight(`${url}/api/v1/workflows/w-1`, DASHBOARD)).status).toBe(204);
    expect((await preflight(`${url}/api/v1/workflows/w-1`, 'https://evil.example')).status).toBe(403);
    const samples = parsePrometheusText(await (await get(`${url}/v1/metrics`)).text());
    const requests = (status: string) =>
      sampleValue(samples, MetricName.httpRequests, { route: 'preflight', method: 'OPTIONS', status });
    expect(requests('204')).toBe(1);
    expect(requests('403')).toBe(1);
  });
});
