import { describe, expect, test } from 'bun:test';
import { signal, workflow } from '../index.ts';
import { useTestEngines, type TestEngine } from '../testing/index.ts';
import type { HandlerOptions } from './handler-index.ts';
import { client, errorOf, type Reply, type Send } from './test-client.ts';

const go = signal<string>('go');

/** Tags itself, takes a discount update, answers a query, waits for `go`, fails on request. */
const order = workflow({ name: 'order' }).execute(async function* (ctx, input: { customer: string; fail?: boolean }) {
  ctx.setAttribute('customer', input.customer);
  ctx.setAttribute('priority', input.customer === 'c-1' ? 1 : 2);
  let discount = 0;
  ctx.onUpdate('discount', (pct: number) => {
    if (pct < 0) throw new Error('a discount cannot be negative');
    return (discount = pct);
  });
  ctx.onQuery('discount', (scale?: number) => discount * (scale ?? 1));
  const note = yield* ctx.waitForSignal(go);
  if (input.fail === true) throw new Error('declined');
  return { customer: input.customer, note, discount };
});
const double = workflow({ name: 'double' }).execute(async function* (_ctx, n: number) {
  return n * 2;
});
/** Awaits something outside the engine after a sleep, so an update sent then stays pending. */
const gate = Promise.withResolvers<void>();
const busy = workflow({ name: 'busy' }).execute(async function* (ctx) {
  let value = 0;
  ctx.onUpdate('set', (v: number) => (value = v));
  yield* ctx.sleep('1s');
  await gate.promise;
  yield* ctx.waitForSignal(go);
  return value;
});

const harness = useTestEngines();

/** o-1 (c-1, completed), o-2 (c-2, failed, with a deadline), o-3 (c-1, suspended), d-1 (double, completed), a minute apart. */
async function seeded(options?: HandlerOptions): Promise<{ t: TestEngine; send: Send }> {
  const t = await harness(order, double, busy);
  const send = client(t.engine, options);
  expect(
    (await send('POST', '/api/v1/workflows', { type: 'order', id: 'o-1', input: { customer: 'c-1' } })).status,
  ).toBe(201);
  await t.clock.advance('1m');
  const o2 = { type: 'order', id: 'o-2', input: { customer: 'c-2', fail: true }, executionTimeout: '1h' };
  expect((await send('POST', '/api/v1/workflows', o2)).status).toBe(201);
  await t.clock.advance('1m');
  expect(
    (await send('POST', '/api/v1/workflows', { type: 'order', id: 'o-3', input: { customer: 'c-1' } })).status,
  ).toBe(201);
  await t.clock.advance('1m');
  await send('POST', '/api/v1/workflows', { type: 'double', id: 'd-1', input: 21 });
  await t.engine.handle('d-1').result();
  await send('POST', '/api/v1/workflows/o-1/signal/go', { payload: 'ship it' });
  await send('POST', '/api/v1/workflows/o-2/signal/go', { payload: 'x' });
  await t.clock.advance(0);
  return { t, send };
}

const ids = (reply: Reply) => (reply.body as { items: { id: string }[] }).items.map((item) => item.id);

describe('starting runs', () => {
  test('POST /api/v1/workflows starts a run: 201 { id }, a generated id when none is given', async () => {
    const send = client((await harness(double)).engine);
    expect(await send('POST', '/api/v1/workflows', { type: 'double', input: 2, id: 'd-1' })).toMatchObject({
      status: 201,
      body: { id: 'd-1' },
    });
    const generated = await send('POST', '/api/v1/workflows', { type: 'double', input: 3 });
    expect(generated.status).toBe(201);
    expect((generated.body as { id: string }).id).toBeString();
    expect(await send.engine.handle('d-1').result()).toBe(4);
    // The guide's body: executionTimeout sets the run's deadline.
    await send('POST', '/api/v1/workflows', { type: 'double', input: 1, id: 'd-2', executionTimeout: '24h' });
    const state = (await send('GET', '/api/v1/workflows/d-2')).body as { createdAt: string; deadline: string };
    expect(Date.parse(state.deadline) - Date.parse(state.createdAt)).toBe(24 * 3600_000);
  });

  test('a taken id is 409, an unknown type 400, a missing type or bad duration 400', async () => {
    const send = client((await harness(order)).engine);
    await send('POST', '/api/v1/workflows', { type: 'order', id: 'o-1', input: { customer: 'c' } });
    const taken = await send('POST', '/api/v1/workflows', { type: 'order', id: 'o-1', input: { customer: 'c' } });
    expect(taken).toMatchObject({
      status: 409,
      body: { error: { code: 'workflow_already_exists', details: { id: 'o-1' } } },
    });
    expect(await send('POST', '/api/v1/workflows', { type: 'nope' })).toMatchObject({
      status: 400,
      body: errorOf('workflow_type_not_registered'),
    });
    const missing = await send('POST', '/api/v1/workflows', { input: 1 });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({
      error: {
        code: 'invalid_params',
        message:
          'Invalid parameters for weft.workflows.start: type: Invalid input: expected string, received undefined',
        details: {
          operation: 'weft.workflows.start',
          issues: [{ path: 'type', message: 'Invalid input: expected string, received undefined' }],
        },
      },
    });
    // The duration pattern is the catalog schema's (and the document's), so a bad one is refused with the field named.
    const timeout = { type: 'order', input: { customer: 'c' }, executionTimeout: '5 min' };
    expect(await send('POST', '/api/v1/workflows', timeout)).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_params', details: { issues: [{ path: 'executionTimeout' }] } } },
    });
  });
});

describe('listing and aggregates', () => {
  test('GET /api/v1/workflows lists newest first with total, offset and limit; no failure category by default', async () => {
    const { send } = await seeded();
    const all = await send('GET', '/api/v1/workflows');
    expect(all).toMatchObject({ status: 200, body: { total: 4, offset: 0, limit: 50 } });
    expect(ids(all)).toEqual(['d-1', 'o-3', 'o-2', 'o-1']);
    const [first] = (all.body as { items: Record<string, unknown>[] }).items;
    expect(first).toEqual({
      id: 'd-1',
      type: 'double',
      version: null,
      status: 'completed',
      parentId: null,
      createdAt: '2026-01-01T00:03:00.000Z',
      updatedAt: '2026-01-01T00:03:00.000Z',
      deadline: null,
    });
    const page = await send('GET', '/api/v1/workflows?limit=2&offset=1');
    expect(ids(page)).toEqual(['o-3', 'o-2']);
    expect(page.body).toMatchObject({ total: 4, offset: 1, limit: 2 });
  });

  test('every filter: status (repeated = OR), type, id_prefix, failure_category, ranges, attributes', async () => {
    const { send } = await seeded();
    const list = async (query: string) => {
      const reply = await send('GET', `/api/v1/workflows?${query}`);
      expect(reply.status).toBe(200);
      return ids(reply);
    };
    expect(await list('status=completed')).toEqual(['d-1', 'o-1']);
    expect(await list('status=failed&status=suspended')).toEqual(['o-3', 'o-2']);
    expect(await list('type=double')).toEqual(['d-1']);
    expect(await list('type=double&type=order&status=failed')).toEqual(['o-2']);
    expect(await list('id_prefix=o-')).toEqual(['o-3', 'o-2', 'o-1']);
    expect(await list('idPrefix=d')).toEqual(['d-1']);
    expect(await list('failure_category=workflow')).toEqual(['o-2']);
    expect(await list('failure_category=timeout&failure_category=workflow')).toEqual(['o-2']);
    expect(await list('created_after=2026-01-01T00:00:30Z&created_before=2026-01-01T00:02:30Z')).toEqual([
      'o-3',
      'o-2',
    ]);
    expect(await list('createdAfter=2026-01-01T00:02:30%2B00:00')).toEqual(['d-1']);
    expect(await list('updated_before=2026-01-01T00:02:30Z')).toEqual(['o-3']);
    expect(await list('updated_after=2026-01-01T00:02:30Z')).toEqual(['d-1', 'o-2', 'o-1']);
    expect(await list('deadline_after=2026-01-01T00:00:00Z')).toEqual(['o-2']);
    expect(await list('deadline_before=2026-01-01T01:00:00Z')).toEqual([]);
    expect(await list('attribute.customer=c-1')).toEqual(['o-3', 'o-1']);
    expect(await list('attribute.priority=1')).toEqual(['o-3', 'o-1']);
    expect(await list('attribute.priority=%221%22')).toEqual([]);
    expect(await list('attribute.customer=c-1&attribute.priority=2')).toEqual([]);
  });

  test('include=failureCategory projects the failure category', async () => {
    const { send } = await seeded();
    const reply = await send('GET', '/api/v1/workflows?include=failureCategory&id_prefix=o-');
    const items = (reply.body as { items: { id: string; failureCategory: unknown }[] }).items;
    expect(items.map(({ id, failureCategory }) => [id, failureCategory])).toEqual([
      ['o-3', null],
      ['o-2', 'workflow'],
      ['o-1', null],
    ]);
  });

  test('unknown parameters and bad values are 400, never a wider list', async () => {
    const { send } = await seeded();
    for (const query of [
      'stauts=failed',
      'status=bogus',
      'limit=0',
      'limit=abc',
      'limit=1001',
      'offset=-1',
      'created_after=yesterday',
      'include=input',
      'failure_category=oops',
      'limit=',
      'attribute.bad%20name=1',
    ]) {
      const reply = await send('GET', `/api/v1/workflows?${query}`);
      expect({ query, status: reply.status }).toEqual({ query, status: 400 });
      expect(reply.body).toMatchObject({ error: { code: expect.stringMatching(/^invalid_/) } });
    }
  });

  test('GET /api/v1/workflows/aggregate counts by status, type, failure category or attribute, with filters', async () => {
    const { send } = await seeded();
    expect(await send('GET', '/api/v1/workflows/aggregate?group_by=status')).toMatchObject({
      status: 200,
      body: {
        total: 4,
        groups: [
          { key: 'completed', count: 2 },
          { key: 'failed', count: 1 },
          { key: 'suspended', count: 1 },
        ],
        truncated: false,
      },
    });
    expect((await send('GET', '/api/v1/workflows/aggregate?groupBy=type')).body).toMatchObject({
      groups: [
        { key: 'order', count: 3 },
        { key: 'double', count: 1 },
      ],
    });
    expect((await send('GET', '/api/v1/workflows/aggregate?group_by=attribute:priority&type=order')).body).toEqual({
      total: 3,
      groups: [
        { key: 1, count: 2 },
        { key: 2, count: 1 },
      ],
      truncated: false,
    });
    expect((await send('GET', '/api/v1/workflows/aggregate?group_by=failureCategory&status=failed')).body).toEqual({
      total: 1,
      groups: [{ key: 'workflow', count: 1 }],
      truncated: false,
    });
    expect(await send('GET', '/api/v1/workflows/aggregate')).toMatchObject({
      status: 400,
      body: errorOf('invalid_params'),
    });
    expect(await send('GET', '/api/v1/workflows/aggregate?group_by=color')).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_params', details: { issues: [{ path: 'groupBy' }] } } },
    });
    expect(await send('GET', '/api/v1/workflows/aggregate?group_by=status&limit=5')).toMatchObject({ status: 400 });
  });
});

describe('one run', () => {
  test('GET /api/v1/workflows/:id is its state; an unknown id is 404', async () => {
    const { send } = await seeded();
    expect(await send('GET', '/api/v1/workflows/o-1')).toMatchObject({
      status: 200,
      body: {
        id: 'o-1',
        type: 'order',
        status: 'completed',
        input: { customer: 'c-1' },
        result: { customer: 'c-1', note: 'ship it', discount: 0 },
        createdAt: '2026-01-01T00:00:00.000Z',
        deadline: null,
      },
    });
    expect(await send('GET', '/api/v1/workflows/o-2')).toMatchObject({
      body: {
        status: 'failed',
        failureCategory: 'workflow',
        error: { message: 'declined' },
        deadline: '2026-01-01T01:01:00.000Z',
      },
    });
    expect(await send('GET', '/api/v1/workflows/nope')).toMatchObject({
      status: 404,
      body: errorOf('workflow_not_found'),
    });
  });

  test('GET .../result: 200 { result } when done, also when it finishes while waiting', async () => {
    const { t, send } = await seeded();
    expect(await send('GET', '/api/v1/workflows/d-1/result')).toEqual({
      status: 200,
      headers: expect.anything(),
      body: { result: 42 },
    });
    const waiting = send('GET', '/api/v1/workflows/o-3/result');
    await t.engine.signal('o-3', go, 'late');
    expect(await waiting).toMatchObject({ status: 200, body: { result: { customer: 'c-1', note: 'late' } } });
  });

  test('GET .../result: 408 after the configured wait, 422 for a failed or cancelled run, 404 for none', async () => {
    const { send } = await seeded({ resultTimeoutMs: 20 });
    expect(await send('GET', '/api/v1/workflows/o-3/result')).toMatchObject({
      status: 408,
      body: { error: { code: 'result_timeout', details: { id: 'o-3', waitedMs: 20 } } },
    });
    expect(await send('GET', '/api/v1/workflows/o-2/result')).toMatchObject({
      status: 422,
      body: errorOf('workflow_failed'),
    });
    expect((await send('POST', '/api/v1/workflows/o-3/cancel')).status).toBe(204);
    expect(await send('GET', '/api/v1/workflows/o-3/result')).toMatchObject({
      status: 422,
      body: errorOf('workflow_cancelled'),
    });
    expect(await send('GET', '/api/v1/workflows/nope/result')).toMatchObject({ status: 404 });
  });

  test('DELETE /api/v1/workflows/:id is 204 with no body, and the record is gone', async () => {
    const { send } = await seeded();
    expect(await send('DELETE', '/api/v1/workflows/o-3')).toMatchObject({ status: 204, body: undefined });
    expect(await send('GET', '/api/v1/workflows/o-3')).toMatchObject({ status: 404 });
    expect(await send('DELETE', '/api/v1/workflows/o-3')).toMatchObject({
      status: 404,
      body: errorOf('workflow_not_found'),
    });
  });

  test('POST .../cancel is 204 and keeps the record as cancelled; a finished run is 409', async () => {
    const { send } = await seeded();
    expect(await send('POST', '/api/v1/workflows/o-3/cancel')).toMatchObject({ status: 204, body: undefined });
    expect(await send('GET', '/api/v1/workflows/o-3')).toMatchObject({ status: 200, body: { status: 'cancelled' } });
    expect(await send('POST', '/api/v1/workflows/o-1/cancel')).toMatchObject({
      status: 409,
      body: errorOf('workflow_not_running'),
    });
  });

  test('POST .../signal/:name delivers the payload: { ok: true }', async () => {
    const { t, send } = await seeded();
    expect(await send('POST', '/api/v1/workflows/o-3/signal/go', { payload: 'now' })).toMatchObject({
      status: 200,
      body: { ok: true },
    });
    expect(await t.engine.handle('o-3').result()).toMatchObject({ note: 'now' });
    expect(await send('POST', '/api/v1/workflows/nope/signal/go', {})).toMatchObject({ status: 404 });
    expect(await send('POST', '/api/v1/workflows/o-1/signal/go')).toMatchObject({ status: 409 });
  });

  test('a body field that repeats a path parameter must agree with it; a body must be an object', async () => {
    const { send } = await seeded();
    expect(await send('POST', '/api/v1/workflows/o-3/signal/go', { id: 'o-1' })).toMatchObject({
      status: 400,
      body: errorOf('invalid_params'),
    });
    expect((await send('POST', '/api/v1/workflows/o-3/signal/go', { id: 'o-3', name: 'go' })).status).toBe(200);
    for (const body of ['[1]', '"text"', 'null', '7']) {
      expect(await send('POST', '/api/v1/workflows/o-3/signal/go', body)).toMatchObject({
        status: 400,
        body: errorOf('bad_request'),
      });
    }
  });
});

describe('updates, queries and attributes', () => {
  test('POST .../update/:name answers { updateId, status, result }; GET /api/v1/updates/:id reads it back', async () => {
    const { send } = await seeded();
    const reply = await send('POST', '/api/v1/workflows/o-3/update/discount', { payload: 15, idempotencyKey: 'k-1' });
    const { updateId } = reply.body as { updateId: string };
    expect(reply).toMatchObject({ status: 200, body: { updateId, status: 'completed', result: 15 } });
    expect(updateId).toBeString();
    expect(await send('GET', `/api/v1/updates/${updateId}`)).toMatchObject({
      status: 200,
      body: { updateId, workflowId: 'o-3', name: 'discount', status: 'completed', result: 15 },
    });
    expect(
      await send('POST', '/api/v1/workflows/o-3/update/discount', { payload: 99, idempotencyKey: 'k-1' }),
    ).toMatchObject({
      body: { updateId, result: 15 },
    });
    expect(await send('GET', '/api/v1/updates/nope')).toMatchObject({ status: 404, body: errorOf('update_not_found') });
  });

  test('a failed update is 422 update_failed; an unknown one 422 update_not_handled', async () => {
    const { send } = await seeded();
    expect(await send('POST', '/api/v1/workflows/o-3/update/discount', { payload: -1 })).toMatchObject({
      status: 422,
      body: errorOf('update_failed'),
    });
    expect(await send('POST', '/api/v1/workflows/o-3/update/nothing', {})).toMatchObject({
      status: 422,
      body: errorOf('update_not_handled'),
    });
  });

  test('an update still pending when its timeout passes is 202, and so is GET /api/v1/updates/:id until it is done', async () => {
    const t = await harness(busy);
    const send = client(t.engine);
    // The run awaits the gate: open it whatever happens, or closing the engine would wait forever.
    try {
      await send('POST', '/api/v1/workflows', { type: 'busy', id: 'b-1' });
      await t.clock.advance('1s');
      const sent = send('POST', '/api/v1/workflows/b-1/update/set', { payload: 3, timeout: '5s' });
      let settled = false;
      void sent.then(() => (settled = true));
      for (let i = 0; i < 20 && !settled; i++) await t.clock.advance('1s');
      const reply = await sent;
      const { updateId } = reply.body as { updateId: string };
      expect(updateId).toBeString();
      expect(reply).toMatchObject({ status: 202, body: { updateId, status: 'pending' } });
      expect(await send('GET', `/api/v1/updates/${updateId}`)).toMatchObject({
        status: 202,
        body: { updateId, workflowId: 'b-1', name: 'set', status: 'pending' },
      });
      gate.resolve();
      await t.clock.advance(0);
      expect(await send('GET', `/api/v1/updates/${updateId}`)).toMatchObject({
        status: 200,
        body: { status: 'completed', result: 3 },
      });
    } finally {
      gate.resolve();
    }
  });

  test('POST .../query/:name answers { result }; an unknown query is 422', async () => {
    const { send } = await seeded();
    await send('POST', '/api/v1/workflows/o-3/update/discount', { payload: 10 });
    expect(await send('POST', '/api/v1/workflows/o-3/query/discount', {})).toMatchObject({
      status: 200,
      body: { result: 10 },
    });
    expect(await send('POST', '/api/v1/workflows/o-3/query/discount', { args: 3 })).toMatchObject({
      body: { result: 30 },
    });
    expect(await send('POST', '/api/v1/workflows/o-3/query/missing')).toMatchObject({
      status: 422,
      body: errorOf('query_not_handled'),
    });
  });

  test('GET and PATCH .../attributes read and change search attributes (null removes one)', async () => {
    const { send } = await seeded();
    expect(await send('GET', '/api/v1/workflows/o-1/attributes')).toMatchObject({
      status: 200,
      body: { attributes: { customer: 'c-1', priority: 1 } },
    });
    const patched = await send('PATCH', '/api/v1/workflows/o-1/attributes', {
      attributes: { region: 'us-east', priority: null, vip: true },
    });
    expect(patched).toMatchObject({
      status: 200,
      body: { attributes: { customer: 'c-1', region: 'us-east', vip: true } },
    });
    expect((patched.body as { attributes: object }).attributes).not.toHaveProperty('priority');
    expect(await send('PATCH', '/api/v1/workflows/o-1/attributes', {})).toMatchObject({
      status: 400,
      body: errorOf('invalid_params'),
    });
    // The schema carries the engine's attribute name rule, so a bad name is refused before the engine.
    expect(await send('PATCH', '/api/v1/workflows/o-1/attributes', { attributes: { 'bad name!': 1 } })).toMatchObject({
      status: 400,
      body: errorOf('invalid_params'),
    });
    expect(await send('GET', '/api/v1/workflows/nope/attributes')).toMatchObject({ status: 404 });
  });

  test('GET /api/v1/events pages through the fleet events', async () => {
    const { send } = await seeded();
    const reply = await send('GET', '/api/v1/events?after=-1&limit=3');
    expect(reply.status).toBe(200);
    const items = (reply.body as { items: { seq: number; type: string }[] }).items;
    expect(items).toHaveLength(3);
    expect(items[0]).toMatchObject({ type: 'workflow:started', workflowId: 'o-1' });
  });
});
