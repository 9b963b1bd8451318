/**
 * `serve({ dashboard })` from a browser's side, over real HTTP: the shell answers the page routes,
 * the API keeps `/api/...`, `/v1/...` and the discovery documents, and `auth` guards the API calls
 * but not the shell. Trap it avoids: a shell route swallowing an API path (or the reverse), which
 * only shows up with Bun's `routes` and the fetch handler running together.
 */
import { describe, expect, spyOn, test } from 'bun:test';
import { InvalidArgumentError } from '../core/errors.ts';
import type { AuthAuditEvent } from './security/auth-config.ts';
import type { ServeOptions } from './index.ts';
import { testServers } from '../testing/test-servers.ts';
import htmlShell from './test-fixtures/dashboard-shell.html';

const HTML = '<!doctype html><html><body><div id="weft-dashboard"></div></body></html>';
const KEY = 'dashboard-test-key-0123456789';
/** What `GET /api/v1/workflows` answers over an engine that ran nothing. */
const EMPTY_LIST = { items: [], limit: 50, offset: 0, total: 0, totalIsExact: true, nextCursor: null };
const SHELL_PATHS = ['/', '/workflows', '/workflows/order-1', '/workflows/order-1/events/7', '/reviews', '/workers'];

const { start, expectRefusedBeforeBinding } = testServers();

function shell(): Response {
  return new Response(HTML, { headers: { 'content-type': 'text/html' } });
}

async function errorCode(response: Response): Promise<unknown> {
  expect(response.headers.get('content-type')).toStartWith('application/json');
  return ((await response.json()) as { error?: { code?: unknown } }).error?.code;
}

function jsonRpc(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/api/jsonrpc`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'weft.system.health' }),
  });
}

describe('a Response dashboard', () => {
  test('the shell is served at /, /workflows, /workflows/*, /reviews and /workers', async () => {
    const { url } = await start({ dashboard: shell() });
    for (const path of SHELL_PATHS) {
      const response = await fetch(`${url}${path}`);
      expect(`${path} ${response.status}`).toBe(`${path} 200`);
      expect(response.headers.get('content-type')).toBe('text/html');
      expect(await response.text()).toBe(HTML);
    }
  });

  test('HEAD on a shell route answers like GET, without a body', async () => {
    const { url } = await start({ dashboard: shell() });
    for (const path of SHELL_PATHS) {
      const response = await fetch(`${url}${path}`, { method: 'HEAD' });
      expect(`${path} ${response.status}`).toBe(`${path} 200`);
      expect(response.headers.get('content-type')).toBe('text/html');
      expect(await response.text()).toBe('');
    }
  });

  test('the API keeps /api/..., /v1/..., the discovery documents and JSON-RPC', async () => {
    const { url } = await start({ dashboard: shell() });

    for (const path of ['/api/v1/health', '/v1/health']) {
      const health = await fetch(`${url}${path}`);
      expect(health.status).toBe(200);
      expect(health.headers.get('content-type')).toStartWith('application/json');
      expect(await health.json()).toEqual({ status: 'ok' });
    }

    const list = await fetch(`${url}/api/v1/workflows`);
    expect(list.status).toBe(200);
    expect(list.headers.get('content-type')).toStartWith('application/json');
    expect(await list.json()).toEqual(EMPTY_LIST);

    const openApi = await fetch(`${url}/openapi.json`);
    expect(openApi.status).toBe(200);
    expect(((await openApi.json()) as { openapi?: unknown }).openapi).toBeString();

    const openRpc = await fetch(`${url}/openrpc.json`);
    expect(openRpc.status).toBe(200);
    expect(((await openRpc.json()) as { openrpc?: unknown }).openrpc).toBeString();

    const rpc = await jsonRpc(url);
    expect(rpc.status).toBe(200);
    expect(await rpc.json()).toEqual({ jsonrpc: '2.0', id: 1, result: { status: 'ok' } });
  });

  test("a path outside the mounted ones is the API's 404 JSON error", async () => {
    const { url } = await start({ dashboard: shell() });
    for (const path of ['/other', '/reviews/extra', '/workers/w-1', '/workflowsx', '/api']) {
      const response = await fetch(`${url}${path}`);
      expect(`${path} ${response.status}`).toBe(`${path} 404`);
      expect(await errorCode(response)).toBe('not_found');
    }
  });

  test('other methods on a shell route fall through to the API, which answers 404', async () => {
    const { url } = await start({ dashboard: shell() });
    for (const method of ['POST', 'DELETE']) {
      const response = await fetch(`${url}/workflows`, { method });
      expect(`${method} ${response.status}`).toBe(`${method} 404`);
      expect(await errorCode(response)).toBe('not_found');
    }
  });
});

describe('a dashboard with auth', () => {
  test('the shell needs no credential, while the API calls it makes do', async () => {
    const events: AuthAuditEvent[] = [];
    const { url } = await start({
      dashboard: shell(),
      auth: { apiKeys: [KEY], auditSink: (event) => events.push(event) },
    });
    for (const path of SHELL_PATHS) {
      const response = await fetch(`${url}${path}`);
      expect(`${path} ${response.status}`).toBe(`${path} 200`);
      expect(await response.text()).toBe(HTML);
    }
    expect(events).toEqual([]);

    const anonymous = await fetch(`${url}/api/v1/workflows`);
    expect(anonymous.status).toBe(401);
    expect(await errorCode(anonymous)).toBe('unauthenticated');

    const wrongKey = await fetch(`${url}/api/v1/workflows`, { headers: { authorization: 'Bearer not-the-key' } });
    expect(wrongKey.status).toBe(401);

    const authenticated = await fetch(`${url}/api/v1/workflows`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(authenticated.status).toBe(200);
    expect(await authenticated.json()).toEqual(EMPTY_LIST);

    const health = await fetch(`${url}/api/v1/health`);
    expect(health.status).toBe(200);
  });
});

describe('a function dashboard', () => {
  test('receives each page request and answers it', async () => {
    const seen: string[] = [];
    const { url } = await start({
      dashboard: (request) => {
        const { pathname, search } = new URL(request.url);
        seen.push(`${request.method} ${pathname}`);
        return new Response(`${pathname}${search} ${request.headers.get('x-probe') ?? '-'}`, {
          headers: { 'content-type': 'text/plain' },
        });
      },
    });
    for (const path of SHELL_PATHS) {
      const response = await fetch(`${url}${path}?tab=2`, { headers: { 'x-probe': 'p-1' } });
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(`${path}?tab=2 p-1`);
    }
    const head = await fetch(`${url}/reviews`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect(seen).toEqual([...SHELL_PATHS.map((path) => `GET ${path}`), 'HEAD /reviews']);

    const health = await fetch(`${url}/api/v1/health`);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(seen).toHaveLength(SHELL_PATHS.length + 1);
  });

  test('may answer asynchronously', async () => {
    const { url } = await start({
      dashboard: async (request) => {
        await Promise.resolve();
        return new Response(`async ${new URL(request.url).pathname}`, { status: 200 });
      },
    });
    const response = await fetch(`${url}/workers`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('async /workers');
  });

  test('a function that throws is a 500, logged, and the server keeps serving', async () => {
    const logged = spyOn(console, 'error').mockImplementation(() => {});
    try {
      let calls = 0;
      const { url } = await start({
        dashboard: () => {
          calls += 1;
          throw new Error(`dashboard broke ${calls}`);
        },
      });
      for (const path of ['/', '/workflows/run-1']) {
        const failed = await fetch(`${url}${path}`);
        expect(failed.status).toBe(500);
        const body = (await failed.json()) as { error: { code: string; message: string } };
        expect(body.error.code).toBe('internal');
        expect(body.error.message).not.toContain('dashboard broke');
      }
      expect(calls).toBe(2);
      expect(logged).toHaveBeenCalledTimes(2);
      expect(String(logged.mock.calls[0]?.[0])).toContain('dashboard');

      const health = await fetch(`${url}/api/v1/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      expect((await jsonRpc(url)).status).toBe(200);
    } finally {
      logged.mockRestore();
    }
  });

  test('a function that rejects is a 500 too', async () => {
    const logged = spyOn(console, 'error').mockImplementation(() => {});
    try {
      const { url } = await start({ dashboard: () => Promise.reject(new Error('no shell')) });
      const failed = await fetch(`${url}/reviews`);
      expect(failed.status).toBe(500);
      expect(await errorCode(failed)).toBe('internal');
      expect((await fetch(`${url}/v1/health`)).status).toBe(200);
    } finally {
      logged.mockRestore();
    }
  });
});

describe('a Bun HTML import dashboard', () => {
  test('is served (bundled by Bun) at the page routes, and the API keeps its routes', async () => {
    const { url } = await start({ dashboard: htmlShell });
    for (const path of ['/', '/workflows', '/workflows/o-1/events', '/reviews', '/workers']) {
      const response = await fetch(`${url}${path}`);
      expect(`${path} ${response.status}`).toBe(`${path} 200`);
      expect(response.headers.get('content-type')).toStartWith('text/html');
      expect(await response.text()).toContain('weft-dashboard-shell');
    }
    const health = await fetch(`${url}/api/v1/health`);
    expect(await health.json()).toEqual({ status: 'ok' });
  });
});

describe('without a dashboard', () => {
  test("GET / and the other page routes are the API's 404", async () => {
    const { url } = await start({});
    for (const path of SHELL_PATHS) {
      const response = await fetch(`${url}${path}`);
      expect(`${path} ${response.status}`).toBe(`${path} 404`);
      expect(await errorCode(response)).toBe('not_found');
    }
  });
});

describe('an invalid dashboard', () => {
  const invalid: [string, unknown][] = [
    ['a number', 42],
    ['a plain object without index', { html: HTML }],
    ['a string', HTML],
    ['null', null],
  ];
  for (const [name, dashboard] of invalid) {
    test(`${name} throws InvalidArgumentError from serve() before binding the port`, async () => {
      await expectRefusedBeforeBinding(
        { unauthenticatedAccess: 'allow', dashboard: dashboard as ServeOptions['dashboard'] },
        InvalidArgumentError,
      );
    });
  }
});
