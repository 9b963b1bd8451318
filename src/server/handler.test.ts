import { describe, expect, test } from 'bun:test';
import { pack } from 'msgpackr';
import type { Engine } from '../engine/engine.ts';
import { z } from 'zod';
import { signal, update, workflow } from '../index.ts';
import { useTestEngines, type TestEngine } from '../testing/index.ts';
import type { HandlerOptions, MetricsSink } from './handler-index.ts';
import { handleRequest } from './handler-index.ts';
import { client, errorOf, type Reply, type Send } from './test-client.ts';

const go = signal<string>('go');
const order = workflow({ name: 'order' }).execute(async function* (ctx, customer: string) {
  ctx.setAttribute('customer', customer);
  return `${customer}: ${yield* ctx.waitForSignal(go)}`;
});
const double = workflow({ name: 'double' }).execute(async function* (_ctx, n: number) {
  return n * 2;
});

const harness = useTestEngines();

/** o-1 (waiting for `go`) and d-1 (completed). */
async function seeded(options?: HandlerOptions): Promise<{ t: TestEngine; send: Send }> {
  const t = await harness(order, double);
  await t.engine.start(order, 'c-1', { id: 'o-1' });
  await (await t.engine.start(double, 21, { id: 'd-1' })).result();
  return { t, send: client(t.engine, options) };
}

const ids = (reply: Reply) => (reply.body as { items: { id: string }[] }).items.map((item) => item.id);

describe('health and cancellation', () => {
  test('GET /v1/health and /api/v1/health answer { status: "ok" } as JSON', async () => {
    const send = client((await harness(order)).engine);
    for (const path of ['/v1/health', '/api/v1/health']) {
      const reply = await send('GET', path);
      expect(reply).toMatchObject({ status: 200, body: { status: 'ok' } });
      expect(reply.headers.get('content-type')).toBe('application/json; charset=utf-8');
    }
  });

  test('the result wait stops when the client goes away', async () => {
    const { t } = await seeded();
    const controller = new AbortController();
    const request = new Request('http://weft.test/api/v1/workflows/o-1/result', { signal: controller.signal });
    const pending = handleRequest(request, t.engine);
    controller.abort();
    expect((await pending).status).toBe(499);
  });

  test('a request whose client is already gone does not wait for the result at all', async () => {
    const { t } = await seeded();
    const request = new Request('http://weft.test/api/v1/workflows/o-1/result', { signal: AbortSignal.abort() });
    const response = await handleRequest(request, t.engine, { resultTimeoutMs: 60_000 });
    expect(response.status).toBe(499);
  });
});

describe('transport', () => {
  test('every route answers under /v1 as well as /api/v1', async () => {
    const { send } = await seeded();
    expect(await send('GET', '/v1/health')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await send('POST', '/v1/workflows', { type: 'double', id: 'v-1', input: 1 })).toMatchObject({ status: 201 });
    expect(ids(await send('GET', '/v1/workflows?type=double'))).toEqual(['v-1', 'd-1']);
    expect(await send('GET', '/v1/workflows/aggregate?group_by=type')).toMatchObject({
      status: 200,
      body: { total: 3 },
    });
    expect(await send('GET', '/v1/workflows/v-1')).toMatchObject({ status: 200, body: { id: 'v-1' } });
    expect(await send('GET', '/v1/workflows/v-1/result')).toMatchObject({ status: 200, body: { result: 2 } });
    expect(await send('PATCH', '/v1/workflows/o-1/attributes', { attributes: { tier: 1 } })).toMatchObject({
      status: 200,
    });
    expect(await send('GET', '/v1/workflows/o-1/attributes')).toMatchObject({
      body: { attributes: { customer: 'c-1', tier: 1 } },
    });
    expect(await send('POST', '/v1/workflows/o-1/query/none', {})).toMatchObject({ status: 422 });
    expect(await send('POST', '/v1/workflows/o-1/update/none', {})).toMatchObject({ status: 422 });
    expect(await send('GET', '/v1/updates/none')).toMatchObject({ status: 404, body: errorOf('update_not_found') });
    expect(await send('GET', '/v1/events?limit=1')).toMatchObject({ status: 200 });
    expect(await send('POST', '/v1/workflows/o-1/cancel')).toMatchObject({ status: 204 });
    expect(await send('DELETE', '/v1/workflows/o-1')).toMatchObject({ status: 204 });
    expect(await send('POST', '/v1/workflows/d-1/signal/go', {})).toMatchObject({ status: 409 });
  });

  test('MessagePack bodies are read, and Accept: application/msgpack answers in MessagePack, errors too', async () => {
    const { send } = await seeded();
    const msgpack = { 'content-type': 'application/msgpack', accept: 'application/msgpack' };
    const started = await send('POST', '/api/v1/workflows', pack({ type: 'double', id: 'm-1', input: 5 }), msgpack);
    expect(started.headers.get('content-type')).toBe('application/msgpack');
    expect(started).toMatchObject({ status: 201, body: { id: 'm-1' } });
    expect(await send('GET', '/api/v1/workflows/m-1/result', undefined, msgpack)).toMatchObject({
      body: { result: 10 },
    });
    const x = await send('POST', '/api/v1/workflows', pack({ type: 'double', id: 'm-2', input: 1 }), {
      'content-type': 'application/x-msgpack',
    });
    expect(x).toMatchObject({ status: 201, body: { id: 'm-2' } });
    expect(x.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const missing = await send('GET', '/api/v1/workflows/nope', undefined, msgpack);
    expect(missing).toMatchObject({ status: 404, body: errorOf('workflow_not_found') });
    expect(missing.headers.get('content-type')).toBe('application/msgpack');
    expect(await send('GET', '/v1/health', undefined, { accept: 'application/msgpack' })).toMatchObject({
      body: { status: 'ok' },
    });
    expect(await send('POST', '/api/v1/workflows', new Uint8Array([0x81]), msgpack)).toMatchObject({
      status: 400,
      body: errorOf('bad_request'),
    });
  });

  test('JSON-RPC and the discovery documents answer in MessagePack when asked, like every other endpoint', async () => {
    const { send } = await seeded();
    const accept = { accept: 'application/msgpack' };
    const rpc = await send('POST', '/api/jsonrpc', { jsonrpc: '2.0', id: 1, method: 'weft.system.health' }, accept);
    expect(rpc.headers.get('content-type')).toBe('application/msgpack');
    expect(rpc.body).toEqual({ jsonrpc: '2.0', id: 1, result: { status: 'ok' } });
    for (const path of ['/openapi.json', '/openrpc.json']) {
      const document = await send('GET', path, undefined, accept);
      expect(document.headers.get('content-type')).toBe('application/msgpack');
      expect(document.body).toHaveProperty('info');
    }
  });

  test('a body over maxBodyBytes is 413, by its Content-Length or counted while streamed', async () => {
    const { t } = await seeded();
    const send = client(t.engine, { maxBodyBytes: 1024 });
    const big = { type: 'double', input: 'x'.repeat(2000) };
    expect(await send('POST', '/api/v1/workflows', big)).toMatchObject({
      status: 413,
      body: errorOf('request_too_large'),
    });
    const chunk = new TextEncoder().encode(' '.repeat(600));
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(chunk); // never ends: the handler must stop reading by itself
      },
    });
    const request = new Request('http://weft.test/api/v1/workflows', { method: 'POST', body: stream });
    const response = await handleRequest(request, t.engine, { maxBodyBytes: 1024 });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject(errorOf('request_too_large'));
    // The default is 1 MiB.
    const huge = await client(t.engine)('POST', '/api/v1/workflows', {
      type: 'double',
      input: 'x'.repeat(1024 * 1024),
    });
    expect(huge.status).toBe(413);
  });

  test('a body in another media type is 415', async () => {
    const { send } = await seeded();
    expect(
      await send('POST', '/api/v1/workflows', 'type=double', { 'content-type': 'application/x-www-form-urlencoded' }),
    ).toMatchObject({
      status: 415,
      body: errorOf('unsupported_media_type'),
    });
  });

  test('a known path with another method is 405 with Allow; an unknown path is 404', async () => {
    const { send } = await seeded();
    const put = await send('PUT', '/api/v1/workflows');
    expect(put).toMatchObject({
      status: 405,
      body: { error: { code: 'method_not_allowed', details: { allow: ['GET', 'POST'] } } },
    });
    expect(put.headers.get('allow')).toBe('GET, POST');
    const aggregate = await send('DELETE', '/api/v1/workflows/aggregate');
    expect(aggregate.status).toBe(405);
    expect(aggregate.headers.get('allow')).toBe('GET');
    expect((await send('DELETE', '/api/jsonrpc')).headers.get('allow')).toBe('GET, POST');
    // GET is the WebSocket upgrade: a plain GET is told so.
    const plainGet = await send('GET', '/api/jsonrpc');
    expect({ status: plainGet.status, upgrade: plainGet.headers.get('upgrade') }).toEqual({
      status: 426,
      upgrade: 'websocket',
    });
    for (const path of ['/', '/api/v2/workflows', '/api/v1/nothing', '/api/v1/workflows/a/b/c', '/v1/workflows/']) {
      expect(await send('GET', path)).toMatchObject({ status: 404, body: errorOf('not_found') });
    }
  });

  test('query parameters on a route that takes none are refused', async () => {
    const { send } = await seeded();
    expect(await send('GET', '/api/v1/workflows/o-1?verbose=1')).toMatchObject({
      status: 400,
      body: errorOf('invalid_params'),
    });
  });

  test('path parameters are URL-decoded; bad percent-encoding is 400', async () => {
    const { send } = await seeded();
    expect(await send('POST', '/api/v1/workflows', { type: 'double', id: 'a/b c', input: 1 })).toMatchObject({
      status: 201,
    });
    expect(await send('GET', '/api/v1/workflows/a%2Fb%20c')).toMatchObject({ status: 200, body: { id: 'a/b c' } });
    expect(await send('GET', '/api/v1/workflows/%E0%A4%A')).toMatchObject({
      status: 400,
      body: errorOf('bad_request'),
    });
  });

  test('an unexpected failure is a 500 internal that leaks nothing', async () => {
    const broken = {
      get: () => Promise.reject(new Error('disk on fire at /var/secret')),
    } as unknown as Engine;
    const logged: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void logged.push(args);
    try {
      const reply = await client(broken)('GET', '/api/v1/workflows/x');
      expect(reply).toMatchObject({
        status: 500,
        body: { error: { code: 'internal', message: 'Internal server error' } },
      });
      expect(JSON.stringify(reply.body)).not.toContain('secret');
      expect(logged).toHaveLength(1);
    } finally {
      console.error = original;
    }
  });
});

describe('JSON-RPC, discovery and metrics routes', () => {
  test('POST /api/jsonrpc runs catalog methods; a bad body is the parse error; notifications are 204', async () => {
    const { send } = await seeded();
    expect(await send('POST', '/api/jsonrpc', { jsonrpc: '2.0', id: 1, method: 'weft.system.health' })).toMatchObject({
      status: 200,
      body: { jsonrpc: '2.0', id: 1, result: { status: 'ok' } },
    });
    expect(await send('POST', '/api/jsonrpc', '{"jsonrpc"', { 'content-type': 'application/json' })).toMatchObject({
      status: 400,
      body: { jsonrpc: '2.0', id: null, error: { code: -32700 } },
    });
    expect(await send('POST', '/api/jsonrpc', { jsonrpc: '2.0', method: 'weft.system.health' })).toMatchObject({
      status: 204,
    });
  });

  test('GET /openapi.json and /openrpc.json serve the discovery documents', async () => {
    const { send } = await seeded();
    expect(await send('GET', '/openapi.json')).toMatchObject({
      status: 200,
      body: { openapi: expect.stringMatching(/^3\.1/) },
    });
    expect(await send('GET', '/openrpc.json')).toMatchObject({ status: 200, body: { openrpc: '1.3.2' } });
  });

  test('GET /v1/metrics renders the sink as Prometheus text (404 without one); every request is recorded', async () => {
    const recorded: [string, string, number][] = [];
    const metrics: MetricsSink = {
      recordRequest: (route, method, status) => void recorded.push([route, method, status]),
      render: async () => '# TYPE weft_up gauge\nweft_up 1\n',
    };
    const { t } = await seeded();
    const send = client(t.engine, { metrics });
    const scraped = await send('GET', '/v1/metrics');
    expect(scraped).toMatchObject({ status: 200, body: '# TYPE weft_up gauge\nweft_up 1\n' });
    expect(scraped.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    await send('GET', '/api/v1/workflows/o-1');
    await send('GET', '/api/v1/workflows/nope');
    await send('PUT', '/api/v1/workflows/o-1');
    await send('GET', '/nowhere');
    expect(recorded).toEqual([
      ['/v1/metrics', 'GET', 200],
      ['/api/v1/workflows/:id', 'GET', 200],
      ['/api/v1/workflows/:id', 'GET', 404],
      ['/api/v1/workflows/:id', 'PUT', 405],
      ['unmatched', 'GET', 404],
    ]);
    expect(await client(t.engine)('GET', '/api/v1/metrics')).toMatchObject({ status: 404, body: errorOf('not_found') });
  });
});

describe('workflow schemas on the wire', () => {
  const approval = signal('approval', { schema: z.object({ approved: z.boolean() }) });
  const discount = update('discount', { schema: z.number().min(0).max(100) });
  const checked = workflow({
    name: 'checked',
    input: z.object({ amount: z.number().positive() }),
    signals: [approval],
    updates: [discount],
  }).execute(async function* (ctx, input) {
    let percent = 0;
    ctx.onUpdate(discount, (next) => (percent = next));
    const decision = yield* ctx.waitForSignal(approval);
    return { ...input, percent, approved: decision.approved };
  });
  const amountIssue = { path: 'amount', message: expect.stringContaining('>0') };

  test('a REST start with an input the schema refuses is a 400 invalid_input listing the issues; no run exists', async () => {
    const t = await harness(checked);
    const send = client(t.engine);
    const reply = await send('POST', '/api/v1/workflows', { type: 'checked', id: 'c-1', input: { amount: -5 } });
    // Not errorOf(): bun's toMatchObject empties an object matched by expect.objectContaining.
    expect(reply).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_input', message: expect.stringContaining("input of workflow 'checked'") } },
    });
    expect((reply.body as { error: { details: unknown } }).error.details).toEqual({
      what: "input of workflow 'checked'",
      issues: [amountIssue],
    });
    expect(await send('GET', '/api/v1/workflows/c-1')).toMatchObject({ status: 404 });
    expect((await t.engine.list()).total).toBe(0);
    const started = await send('POST', '/api/v1/workflows', { type: 'checked', id: 'c-1', input: { amount: 5 } });
    expect(started).toMatchObject({ status: 201, body: { id: 'c-1' } });
  });

  test('a REST signal or update with a payload the schema refuses is a 400 invalid_input; the run never sees it', async () => {
    const t = await harness(checked);
    const send = client(t.engine);
    await t.engine.start(checked, { amount: 5 }, { id: 'c-1' });
    const signalled = await send('POST', '/api/v1/workflows/c-1/signal/approval', { payload: { approved: 'yes' } });
    expect(signalled).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'invalid_input',
          details: {
            what: "payload of signal 'approval'",
            issues: [{ path: 'approved', message: expect.any(String) }],
          },
        },
      },
    });
    expect(await t.storage.peekSignal('c-1', 'approval')).toBeUndefined();
    const updated = await send('POST', '/api/v1/workflows/c-1/update/discount', { payload: 150 });
    expect(updated).toMatchObject({ status: 400, body: { error: { code: 'invalid_input' } } });
    expect((await t.engine.get('c-1'))?.status).toBe('suspended');
    expect(await send('POST', '/api/v1/workflows/c-1/update/discount', { payload: 10 })).toMatchObject({ status: 200 });
    expect(await send('POST', '/api/v1/workflows/c-1/signal/approval', { payload: { approved: true } })).toMatchObject({
      status: 200,
    });
    expect(await t.engine.handle('c-1').result()).toEqual({ amount: 5, percent: 10, approved: true });
  });

  test('over JSON-RPC the same refusals are -32602 with data.code invalid_input and the issues; nothing is stored', async () => {
    const t = await harness(checked);
    const send = client(t.engine);
    const call = (id: number, method: string, params: unknown) =>
      send('POST', '/api/jsonrpc', { jsonrpc: '2.0', id, method, params });
    const started = await call(1, 'weft.workflows.start', { type: 'checked', id: 'c-1', input: { amount: 0 } });
    expect(started).toMatchObject({
      status: 200,
      body: {
        id: 1,
        error: {
          code: -32602,
          data: { code: 'invalid_input', status: 400, details: { issues: [amountIssue] } },
        },
      },
    });
    expect(await t.engine.get('c-1')).toBeUndefined();
    await t.engine.start(checked, { amount: 5 }, { id: 'c-1' });
    const signalled = await call(2, 'weft.workflows.signal', { id: 'c-1', name: 'approval', payload: {} });
    expect(signalled.body).toMatchObject({ error: { code: -32602, data: { code: 'invalid_input' } } });
    const updated = await call(3, 'weft.workflows.update', { id: 'c-1', name: 'discount', payload: 'ten' });
    expect(updated.body).toMatchObject({ error: { code: -32602, data: { code: 'invalid_input' } } });
    expect(await t.storage.peekSignal('c-1', 'approval')).toBeUndefined();
    expect((await t.engine.get('c-1'))?.status).toBe('suspended');
  });
});
