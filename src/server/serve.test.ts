/**
 * `serve()` from a user's side: a real Bun server on port 0, its handle, its limits, its metrics
 * endpoint after real traffic, and a stop that neither hangs nor closes the engine.
 */
import { describe, expect, test } from 'bun:test';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { InvalidArgumentError } from '../core/errors.ts';
import { signal, workflow } from '../index.ts';
import { parsePrometheusText, sampleValue } from '../testing/prometheus-text.ts';
import { MetricName, serve, STOP_GRACE_MS } from './index.ts';
import { testServers } from '../testing/test-servers.ts';

const go = signal<number>('go');

const order = workflow({ name: 'order' })
  .activities({ charge: async (amount: number) => amount * 2 })
  .execute(async function* (ctx, amount: number) {
    const charged = yield* ctx.run('charge', amount);
    if (charged > 100) throw new Error('too much');
    return charged;
  });

const waiter = workflow({ name: 'waiter' }).execute(async function* (ctx) {
  return yield* ctx.waitForSignal(go);
});

const { openEngine } = testServers([order, waiter]);

function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe('serve()', () => {
  test('binds a free port with port 0 and reports where it listens', async () => {
    const engine = await openEngine();
    await using server = serve({ engine, port: 0, unauthenticatedAccess: 'allow' });
    expect(server.port).toBeGreaterThan(0);
    expect(server.hostname).toBe('127.0.0.1');
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    const response = await fetch(`${server.url}/v1/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  test('a wildcard hostname is bound as given, and the url names loopback', async () => {
    const engine = await openEngine();
    await using server = serve({ engine, port: 0, hostname: '0.0.0.0', unauthenticatedAccess: 'allow' });
    expect(server.hostname).toBe('0.0.0.0');
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect((await fetch(`${server.url}/api/v1/health`)).status).toBe(200);
  });

  test('GET /v1/metrics serves the documented metrics with the values of the traffic and runs it saw', async () => {
    const engine = await openEngine();
    // A storage that reports its commit queue, so weft_commit_queue_depth is served too.
    const overload = { storage: { pendingCommits: () => 0 } };
    await using server = serve({ engine, port: 0, unauthenticatedAccess: 'allow', overload });
    for (const [id, amount] of [
      ['o-1', 1],
      ['o-2', 2],
      ['o-big', 60],
    ] as const) {
      expect((await post(`${server.url}/api/v1/workflows`, { type: 'order', input: amount, id })).status).toBe(201);
    }
    expect((await post(`${server.url}/api/v1/workflows`, { type: 'order', input: 1, id: 'o-1' })).status).toBe(409);
    expect((await post(`${server.url}/api/v1/workflows`, { type: 'waiter', id: 'w-1' })).status).toBe(201);
    expect((await fetch(`${server.url}/api/v1/workflows/o-1/result`)).status).toBe(200);
    expect((await fetch(`${server.url}/api/v1/workflows/o-2/result`)).status).toBe(200);
    expect((await fetch(`${server.url}/api/v1/workflows/o-big/result`)).status).toBe(422);
    expect((await fetch(`${server.url}/api/v1/workflows/missing`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/v1/no/such/route`)).status).toBe(404);

    const response = await fetch(`${server.url}/v1/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toStartWith('text/plain');
    const text = await response.text();
    for (const name of Object.values(MetricName)) {
      // Nothing was cancelled, timed out or refused for overload: those have no series yet.
      const unseen: readonly string[] = [
        MetricName.workflowsCancelled,
        MetricName.workflowsTimedOut,
        MetricName.overloadShed,
        // No WebSocket or SSE connection in this test.
        MetricName.realtimeConnections,
        MetricName.realtimeFramesSent,
        MetricName.realtimeSlowConsumerCloses,
      ];
      if (unseen.includes(name)) continue;
      expect(text).toContain(`# TYPE ${name} `);
    }
    const samples = parsePrometheusText(text);
    const value = (name: string, labels: Record<string, string>) => sampleValue(samples, name, labels);

    expect(value(MetricName.workflowsStarted, { workflow_type: 'order' })).toBe(3);
    expect(value(MetricName.workflowsStarted, { workflow_type: 'waiter' })).toBe(1);
    expect(value(MetricName.workflowsCompleted, { workflow_type: 'order' })).toBe(2);
    expect(value(MetricName.workflowsFailed, { workflow_type: 'order', failure_category: 'workflow' })).toBe(1);
    expect(value(MetricName.runsActive, { status: 'suspended' })).toBe(1);
    expect(value(`${MetricName.activityDuration}_count`, { activity: 'charge', outcome: 'completed' })).toBe(3);

    const requests = (route: string, method: string, status: string) =>
      value(MetricName.httpRequests, { route, method, status });
    expect(requests('/api/v1/workflows', 'POST', '201')).toBe(4);
    expect(requests('/api/v1/workflows', 'POST', '409')).toBe(1);
    expect(requests('/api/v1/workflows/:id/result', 'GET', '200')).toBe(2);
    expect(requests('/api/v1/workflows/:id/result', 'GET', '422')).toBe(1);
    expect(requests('/api/v1/workflows/:id', 'GET', '404')).toBe(1);
    expect(requests('unmatched', 'GET', '404')).toBe(1);
    const created = { route: '/api/v1/workflows', method: 'POST', status: '201' };
    expect(value(`${MetricName.httpRequestDuration}_count`, created)).toBe(4);
    expect(value(`${MetricName.httpRequestDuration}_bucket`, { ...created, le: '+Inf' })).toBe(4);
  });

  test('metrics are read through the PrometheusExporter given in the options', async () => {
    const engine = await openEngine();
    const prometheusExporter = new PrometheusExporter({ preventServerStart: true });
    await using server = serve({ engine, port: 0, prometheusExporter, unauthenticatedAccess: 'allow' });
    await post(`${server.url}/api/v1/workflows`, { type: 'waiter', id: 'w-9' });
    const { resourceMetrics } = await prometheusExporter.collect();
    const names = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics.map((m) => m.descriptor.name));
    expect(names).toContain(MetricName.workflowsStarted);
    expect(names).toContain(MetricName.httpRequests);
  });

  test('a body over maxBodyBytes is a 413 with the error body, also well past the limit', async () => {
    const engine = await openEngine();
    await using server = serve({ engine, port: 0, maxBodyBytes: 1024, unauthenticatedAccess: 'allow' });
    for (const size of [2_000, 10_000]) {
      const response = await post(`${server.url}/api/v1/workflows`, { type: 'order', input: 'x'.repeat(size) });
      expect(response.status).toBe(413);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('request_too_large');
    }
    expect((await post(`${server.url}/api/v1/workflows`, { type: 'order', input: 1 })).status).toBe(201);
  });

  test('over the network, hundreds of malformed requests each get a 4xx error body and the server keeps serving', async () => {
    const engine = await openEngine();
    await using server = serve({ engine, port: 0, unauthenticatedAccess: 'allow' });
    const random = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7919 + n * 31) % 256);
    const requests: [string, RequestInit][] = [];
    for (let i = 0; i < 60; i++) {
      requests.push([
        `/api/v1/workflows`,
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: random(i + 1) },
      ]);
      requests.push([
        `/api/v1/workflows`,
        { method: 'POST', headers: { 'content-type': 'application/msgpack' }, body: random(i + 3) },
      ]);
      requests.push([`/api/v1/workflows?limit=${i % 2 === 0 ? -i : 'x'}`, { method: 'GET' }]);
      requests.push([`/api/v1/workflows/%E0%A4%A${i}/signal/go`, { method: 'POST', body: '{}' }]);
      requests.push([
        `/api/jsonrpc`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: `{"jsonrpc":"2.0","id":${i},"method":`,
        },
      ]);
    }
    for (const [path, init] of requests) {
      const response = await fetch(`${server.url}${path}`, init);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      const body = (await response.json()) as {
        error?: { code: unknown; message: unknown; data?: { code?: unknown } };
      };
      // REST errors carry the Weft code in error.code; JSON-RPC errors (a numeric code) in error.data.code.
      const code = path === '/api/jsonrpc' ? body.error?.data?.code : body.error?.code;
      if (typeof code !== 'string') throw new Error(`${init.method} ${path}: ${JSON.stringify(body)}`);
      expect(typeof body.error?.message).toBe('string');
    }
    expect((await post(`${server.url}/api/v1/workflows`, { type: 'order', input: 1 })).status).toBe(201);
  });

  test('stop() closes the port, leaves the engine open, and is idempotent', async () => {
    const engine = await openEngine();
    const server = serve({ engine, port: 0, unauthenticatedAccess: 'allow' });
    const url = server.url;
    await Promise.all([server.stop(), server.stop()]);
    await server[Symbol.asyncDispose]();
    expect(
      await fetch(`${url}/v1/health`).then(
        () => 'answered',
        () => 'refused',
      ),
    ).toBe('refused');
    const handle = await engine.start(order, 3);
    expect(await handle.result()).toBe(6);
  });

  test('stop() does not wait for a long result request past the grace period', async () => {
    const engine = await openEngine();
    const server = serve({ engine, port: 0, unauthenticatedAccess: 'allow' });
    await post(`${server.url}/api/v1/workflows`, { type: 'waiter', id: 'slow' });
    const waiting = fetch(`${server.url}/api/v1/workflows/slow/result`).then(
      (r) => r.status,
      () => 'closed',
    );
    await Bun.sleep(50);
    const start = performance.now();
    await server.stop();
    expect(performance.now() - start).toBeLessThan(STOP_GRACE_MS + 1_000);
    expect(await waiting).toBe('closed');
  });

  test('a taken port fails serve() with the bind error, and the engine can be served again', async () => {
    const engine = await openEngine();
    await using first = serve({ engine, port: 0, unauthenticatedAccess: 'allow' });
    expect(() => serve({ engine, port: first.port, unauthenticatedAccess: 'allow' })).toThrow();
    await using second = serve({ engine, port: 0, unauthenticatedAccess: 'allow' });
    expect((await fetch(`${second.url}/v1/health`)).status).toBe(200);
  });

  test('options are checked before anything binds', async () => {
    const engine = await openEngine();
    expect(() => serve({ engine, port: -1 })).toThrow(InvalidArgumentError);
    expect(() => serve({ engine, port: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => serve({ engine, maxBodyBytes: 0 })).toThrow(InvalidArgumentError);
    expect(() => serve({} as Parameters<typeof serve>[0])).toThrow(/needs an engine/);
  });
});
