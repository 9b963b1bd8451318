/**
 * The checks a request meets before any operation runs, from a hostile client's side over a real
 * socket: a malformed or foreign `Host` (DNS rebinding), a cross-site `Origin` on a write, a body
 * with no media type, and bodies past Bun's own size limit.
 */
import { describe, expect, spyOn, test } from 'bun:test';
import { signal, workflow } from '../index.ts';
import { rawRequest } from '../testing/raw-http.ts';
import { testServers, type TestServer } from '../testing/test-servers.ts';
import { MetricName } from './metrics/metric-names.ts';

const go = signal<string>('go');
const waiter = workflow({ name: 'waiter' }).execute(async function* (ctx) {
  return yield* ctx.waitForSignal(go);
});

const { start } = testServers([waiter]);

const deleteCall = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'weft.workflows.delete', params: { id: 'w-1' } });

/** A request written by hand: `headers` exactly as given (no Host unless listed), then `body`. */
function raw(server: TestServer, head: string, headers: Record<string, string>, body = '') {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  const length = body === '' ? '' : `Content-Length: ${Buffer.byteLength(body)}\r\n`;
  return rawRequest(server.port, `${head}\r\n${lines.join('')}${length}Connection: close\r\n\r\n${body}`);
}

async function serverWithRun(options: Parameters<typeof start>[0] = {}): Promise<TestServer> {
  const server = await start(options);
  await server.engine.start(waiter, undefined, { id: 'w-1' });
  return server;
}

describe('Host', () => {
  test('the reproduction: a rebinding page’s cross-site delete with no Content-Type deletes nothing', async () => {
    const server = await serverWithRun();
    const response = await raw(
      server,
      'POST /api/jsonrpc HTTP/1.1',
      { Host: `rebind.evil.example:${server.port}`, Origin: 'https://evil.example', 'Content-Type': '' },
      deleteCall,
    );
    expect(response.status).toBe(403);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'host_not_allowed' } });
    expect(await server.engine.get('w-1')).toMatchObject({ status: 'suspended' });
  });

  test('a loopback server answers loopback names only, on every route, unless allowedHosts lists more', async () => {
    const server = await serverWithRun();
    for (const host of ['rebind.evil.example', '10.0.0.7', 'localhost.evil.example']) {
      for (const path of ['/v1/health', '/api/v1/workflows/w-1', '/openapi.json']) {
        const response = await raw(server, `GET ${path} HTTP/1.1`, { Host: `${host}:${server.port}` });
        expect({ host, path, status: response.status }).toEqual({ host, path, status: 403 });
        expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'host_not_allowed' } });
      }
    }
    for (const host of ['127.0.0.1', 'localhost', 'weft.localhost', '[::1]']) {
      const response = await raw(server, 'GET /api/v1/workflows/w-1 HTTP/1.1', { Host: `${host}:${server.port}` });
      expect({ host, status: response.status }).toEqual({ host, status: 200 });
    }
    const listed = await start({ allowedHosts: ['weft.internal'] });
    const ok = await raw(listed, 'GET /v1/health HTTP/1.1', { Host: `weft.internal:${listed.port}` });
    expect(ok.status).toBe(200);
    expect((await raw(listed, 'GET /v1/health HTTP/1.1', { Host: 'other.internal' })).status).toBe(403);
  });

  test('a malformed Host is a 400 with the error body on every route, never a 500 or a logged stack', async () => {
    const server = await start();
    const errors = spyOn(console, 'error');
    try {
      for (const host of [`127.0.0.1:99999`, 'a b', '[::1', '127.0.0.1:port']) {
        for (const path of ['/v1/health', '/api/v1/workflows', '/api/jsonrpc']) {
          const response = await raw(server, `GET ${path} HTTP/1.1`, { Host: host });
          expect({ host, path, status: response.status }).toEqual({ host, path, status: 400 });
          expect(JSON.parse(response.body)).toMatchObject({
            error: { code: 'bad_request', message: expect.any(String) },
          });
        }
      }
      const http10 = await rawRequest(server.port, 'GET /v1/health HTTP/1.0\r\nHost:\r\n\r\n');
      expect(http10.status).toBe(400);
      expect(errors).not.toHaveBeenCalled();
    } finally {
      errors.mockRestore();
    }
    const metrics = await (await fetch(`${server.url}/v1/metrics`)).text();
    expect(metrics).toContain(`${MetricName.httpRequests}{route="unmatched",method="GET",status="400",`);
    expect(metrics).not.toMatch(/status="5\d\d"/);
  });
});

describe('Origin', () => {
  const startCall = (id: string) => ({ type: 'waiter', id });

  test('a write from a foreign origin is refused with 403 before it runs; reads and same-origin writes pass', async () => {
    const server = await serverWithRun();
    const send = (method: string, path: string, origin: string | undefined, body?: unknown) =>
      fetch(`${server.url}${path}`, {
        method,
        headers: {
          'content-type': 'application/json',
          ...(origin === undefined ? {} : { origin }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    for (const origin of ['https://evil.example', 'null', `http://127.0.0.1:${server.port + 1}`]) {
      const refused = [
        await send('POST', '/api/v1/workflows', origin, startCall('evil-1')),
        await send('DELETE', '/api/v1/workflows/w-1', origin),
        await send('POST', '/api/v1/workflows/w-1/cancel', origin),
        await send('PATCH', '/api/v1/workflows/w-1/attributes', origin, { attributes: { a: 1 } }),
        await send('POST', '/api/jsonrpc', origin, JSON.parse(deleteCall)),
      ];
      for (const response of refused) {
        expect({ origin, status: response.status }).toEqual({ origin, status: 403 });
        expect(await response.json()).toMatchObject({ error: { code: 'origin_not_allowed' } });
      }
      expect((await send('GET', '/api/v1/workflows/w-1', origin)).status).toBe(200);
    }
    expect(await server.engine.get('w-1')).toMatchObject({ status: 'suspended' });
    expect(await server.engine.get('evil-1')).toBeUndefined();
    // The server's own origin (by host and port, whatever the scheme a proxy terminated) and no Origin at all.
    expect((await send('POST', '/api/v1/workflows', server.url, startCall('own-1'))).status).toBe(201);
    expect(
      (await send('POST', '/api/v1/workflows', `https://127.0.0.1:${server.port}`, startCall('own-2'))).status,
    ).toBe(201);
    expect((await send('POST', '/api/v1/workflows', undefined, startCall('cli-1'))).status).toBe(201);
  });

  test('an origin cors allows may write', async () => {
    const server = await serverWithRun({ cors: { allowedOrigins: ['https://dash.example'] } });
    const response = await fetch(`${server.url}/api/v1/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://dash.example' },
      body: JSON.stringify(startCall('dash-1')),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://dash.example');
    const other = await fetch(`${server.url}/api/v1/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://other.example' },
      body: JSON.stringify(startCall('other-1')),
    });
    expect(other.status).toBe(403);
  });
});

describe('bodies', () => {
  test('a body without Content-Type is a 415 on REST and JSON-RPC, and nothing runs', async () => {
    const server = await serverWithRun();
    const host = { Host: `127.0.0.1:${server.port}` };
    const rest = await raw(
      server,
      'POST /api/v1/workflows HTTP/1.1',
      host,
      JSON.stringify({ type: 'waiter', id: 'x' }),
    );
    expect(rest.status).toBe(415);
    expect(JSON.parse(rest.body)).toMatchObject({ error: { code: 'unsupported_media_type' } });
    const rpc = await raw(server, 'POST /api/jsonrpc HTTP/1.1', host, deleteCall);
    expect(rpc.status).toBe(415);
    const form = await raw(server, 'POST /api/jsonrpc HTTP/1.1', { ...host, 'Content-Type': 'text/plain' }, deleteCall);
    expect(form.status).toBe(415);
    expect(await server.engine.get('w-1')).toMatchObject({ status: 'suspended' });
    expect(await server.engine.get('x')).toBeUndefined();
  });

  test('a body past Bun’s own limit still gets the 413 error body', async () => {
    const server = await start();
    const huge = new Uint8Array(33 * 1024 * 1024).fill(0x20);
    for (const path of ['/api/v1/workflows', '/api/jsonrpc']) {
      const response = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: huge,
      });
      expect({ path, status: response.status }).toEqual({ path, status: 413 });
      expect(await response.json()).toMatchObject({
        error: { code: 'request_too_large', details: { limit: 1048576 } },
      });
    }
  });
});
