import { describe, expect, test } from 'bun:test';
import { signal, workflow } from '../../index.ts';
import type { Engine } from '../../engine/engine.ts';
import { useTestEngines } from '../../testing/index.ts';
import type { OperationContext } from '../catalog.ts';
import { openRpcDocument } from '../discovery/documents.ts';
import { handleJsonRpc, jsonRpcParseError, type JsonRpcResponse } from './jsonrpc.ts';
import { JSON_RPC_MAX_BATCH } from './limits.ts';

const go = signal<string>('go');

/** Waits for `go`, then greets; its `greeting` query and `rename` update work while it waits. */
const greet = workflow({ name: 'greet' }).execute(async function* (ctx, name: string) {
  let who = name;
  ctx.onQuery('greeting', () => `hello, ${who}`);
  ctx.onUpdate('rename', (next: string) => (who = next));
  const word = yield* ctx.waitForSignal(go);
  return `${word}, ${who}`;
});

const broken = workflow({ name: 'broken' }).execute(async function* () {
  yield* [];
  throw new Error('it broke');
});

const context: OperationContext = { signal: new AbortController().signal, resultTimeoutMs: 30_000, keepOpen: () => {} };
const harness = useTestEngines();

async function rpc(engine: Engine, body: unknown): Promise<unknown> {
  return handleJsonRpc(body, engine, context);
}

const call = (id: string | number | null, method: string, params?: unknown) => ({
  jsonrpc: '2.0',
  id,
  method,
  ...(params === undefined ? {} : { params }),
});

const notify = (method: string, params?: unknown) => ({
  jsonrpc: '2.0',
  method,
  ...(params === undefined ? {} : { params }),
});

describe('single calls', () => {
  test('a call runs the catalog operation of that name and answers its result with the same id', async () => {
    const { engine } = await harness(greet);
    expect(await rpc(engine, call(1, 'weft.workflows.start', { type: 'greet', input: 'Ada', id: 'g-1' }))).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: { id: 'g-1' },
    });
    expect(await rpc(engine, call('abc', 'weft.workflows.get', { id: 'g-1' }))).toMatchObject({
      jsonrpc: '2.0',
      id: 'abc',
      result: { id: 'g-1', type: 'greet', status: 'suspended', input: 'Ada' },
    });
    expect(await rpc(engine, call(2, 'weft.workflows.query', { id: 'g-1', name: 'greeting' }))).toEqual({
      jsonrpc: '2.0',
      id: 2,
      result: { result: 'hello, Ada' },
    });
    await rpc(engine, call(3, 'weft.workflows.signal', { id: 'g-1', name: 'go', payload: 'hi' }));
    expect(await rpc(engine, call(4, 'weft.workflows.result', { id: 'g-1' }))).toEqual({
      jsonrpc: '2.0',
      id: 4,
      result: { result: 'hi, Ada' },
    });
  });

  test('a null id is a call, not a notification: it is answered with id null', async () => {
    const { engine } = await harness(greet);
    expect(await rpc(engine, call(null, 'weft.system.health'))).toEqual({
      jsonrpc: '2.0',
      id: null,
      result: { status: 'ok' },
    });
  });

  test('operations without output (cancel, delete) answer result null', async () => {
    const { engine } = await harness(greet);
    await engine.start(greet, 'Ada', { id: 'g-2' });
    expect(await rpc(engine, call(1, 'weft.workflows.cancel', { id: 'g-2' }))).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: null,
    });
    expect(await rpc(engine, call(2, 'weft.workflows.delete', { id: 'g-2' }))).toEqual({
      jsonrpc: '2.0',
      id: 2,
      result: null,
    });
    expect(await engine.get('g-2')).toBeUndefined();
  });

  test('an update still pending when its timeout passes answers its pending outcome (JSON-RPC has no 202)', async () => {
    const gate = Promise.withResolvers<void>();
    const busy = workflow({ name: 'busy' }).execute(async function* (ctx) {
      let value = 0;
      ctx.onUpdate('set', (v: number) => (value = v));
      yield* ctx.sleep('1s');
      await gate.promise; // not parked on a step, so updates wait
      yield* ctx.waitForSignal(go);
      return value;
    });
    const t = await harness(busy);
    await t.engine.start(busy, undefined, { id: 'b-1' });
    await t.clock.advance('1s');
    const sent = rpc(t.engine, call(1, 'weft.workflows.update', { id: 'b-1', name: 'set', payload: 3, timeout: '5s' }));
    await t.clock.advance('5s');
    const answer = (await sent) as { jsonrpc: '2.0'; id: number; result: { updateId: string; status: string } };
    expect(answer).toEqual({ jsonrpc: '2.0', id: 1, result: { updateId: expect.any(String), status: 'pending' } });
    expect(await rpc(t.engine, call(2, 'weft.updates.get', { updateId: answer.result.updateId }))).toMatchObject({
      id: 2,
      result: { status: 'pending', workflowId: 'b-1', name: 'set' },
    });
    gate.resolve();
    await t.clock.advance(0);
    expect(await rpc(t.engine, call(3, 'weft.updates.get', { updateId: answer.result.updateId }))).toMatchObject({
      id: 3,
      result: { status: 'completed', result: 3 },
    });
  });

  test('rpc.discover answers the OpenRPC document served at /openrpc.json', async () => {
    const { engine } = await harness(greet);
    const answer = (await rpc(engine, call(1, 'rpc.discover'))) as { result: unknown };
    expect(answer.result).toBe(openRpcDocument());
    expect(await rpc(engine, call(2, 'rpc.discover', {}))).toMatchObject({ result: openRpcDocument() });
    expect(await rpc(engine, call(3, 'rpc.discover', []))).toMatchObject({ result: openRpcDocument() });
    expect(await rpc(engine, call(4, 'rpc.discover', { verbose: true }))).toMatchObject({
      id: 4,
      error: { code: -32602, data: { code: 'invalid_params', status: 400 } },
    });
  });
});

describe('notifications', () => {
  test('a notification runs its operation and gets no response', async () => {
    const { engine } = await harness(greet);
    const handle = await engine.start(greet, 'Ada', { id: 'n-1' });
    expect(
      await rpc(engine, notify('weft.workflows.signal', { id: 'n-1', name: 'go', payload: 'bye' })),
    ).toBeUndefined();
    expect(await handle.result()).toBe('bye, Ada');
  });

  test('a notification that fails is not answered either, whatever the error', async () => {
    const { engine } = await harness(greet);
    expect(await rpc(engine, notify('weft.workflows.get', { id: 'missing' }))).toBeUndefined();
    expect(await rpc(engine, notify('weft.nope'))).toBeUndefined();
    expect(await rpc(engine, notify('weft.workflows.start', { type: 7 }))).toBeUndefined();
    expect(await rpc(engine, notify('weft.workflows.get', ['positional']))).toBeUndefined();
  });
});

describe('batches', () => {
  test('a batch answers an array in request order, leaving out notifications', async () => {
    const { engine } = await harness(greet);
    await engine.start(greet, 'Ada', { id: 'b-1' });
    const answer = await rpc(engine, [
      call('first', 'weft.workflows.get', { id: 'b-1' }),
      notify('weft.workflows.setAttributes', { id: 'b-1', attributes: { region: 'eu' } }),
      call('second', 'weft.workflows.get', { id: 'missing' }),
      42,
      call('third', 'weft.system.health'),
    ]);
    expect(answer).toEqual([
      { jsonrpc: '2.0', id: 'first', result: expect.objectContaining({ id: 'b-1' }) },
      {
        jsonrpc: '2.0',
        id: 'second',
        error: expect.objectContaining({ code: -32004, data: expect.objectContaining({ code: 'workflow_not_found' }) }),
      },
      { jsonrpc: '2.0', id: null, error: expect.objectContaining({ code: -32600 }) },
      { jsonrpc: '2.0', id: 'third', result: { status: 'ok' } },
    ]);
    expect(await engine.getAttributes('b-1')).toEqual({ region: 'eu' });
  });

  test('the calls of a batch run concurrently: a result call waits for the signal sent after it', async () => {
    const { engine } = await harness(greet);
    await engine.start(greet, 'Ada', { id: 'c-1' });
    const answer = await rpc(engine, [
      call(1, 'weft.workflows.result', { id: 'c-1' }),
      call(2, 'weft.workflows.signal', { id: 'c-1', name: 'go', payload: 'hey' }),
    ]);
    expect(answer).toEqual([
      { jsonrpc: '2.0', id: 1, result: { result: 'hey, Ada' } },
      { jsonrpc: '2.0', id: 2, result: { ok: true } },
    ]);
  });

  test('a batch of notifications only has nothing to answer', async () => {
    const { engine } = await harness(greet);
    expect(await rpc(engine, [notify('weft.system.health'), notify('weft.nope')])).toBeUndefined();
  });

  test('an empty batch is a single Invalid Request error', async () => {
    const { engine } = await harness(greet);
    expect(await rpc(engine, [])).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32600,
        message: expect.stringContaining('empty batch'),
        data: { code: 'bad_request', status: 400 },
      },
    });
  });

  test(`a batch over ${JSON_RPC_MAX_BATCH} calls is a single Invalid Request error and none of its calls run`, async () => {
    const { engine } = await harness(greet);
    const batch = Array.from({ length: JSON_RPC_MAX_BATCH + 1 }, (_, i) =>
      call(i, 'weft.workflows.start', { type: 'greet', input: 'x', id: `many-${i}` }),
    );
    expect(await rpc(engine, batch)).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32600,
        message: expect.any(String),
        data: {
          code: 'bad_request',
          status: 400,
          details: { limit: JSON_RPC_MAX_BATCH, size: JSON_RPC_MAX_BATCH + 1 },
        },
      },
    });
    expect((await engine.list()).total).toBe(0);
    const full = await rpc(engine, batch.slice(0, JSON_RPC_MAX_BATCH));
    expect(full).toHaveLength(JSON_RPC_MAX_BATCH);
    expect((await engine.list()).total).toBe(JSON_RPC_MAX_BATCH);
  });
});

describe('errors', () => {
  const invalidRequests: [string, unknown, string | number | null][] = [
    ['a string', 'weft.system.health', null],
    ['null', null, null],
    ['a request without jsonrpc', { id: 1, method: 'weft.system.health' }, 1],
    ['a JSON-RPC 1.0 request', { jsonrpc: '1.0', id: 1, method: 'weft.system.health' }, 1],
    ['a method that is not a string', { jsonrpc: '2.0', id: 'x', method: 7 }, 'x'],
    ['params that are not structured', { jsonrpc: '2.0', id: 2, method: 'weft.system.health', params: 'bar' }, 2],
    ['params null', { jsonrpc: '2.0', id: 3, method: 'weft.system.health', params: null }, 3],
    ['an id that is an object', { jsonrpc: '2.0', id: { a: 1 }, method: 'weft.system.health' }, null],
    ['an id that is a boolean', { jsonrpc: '2.0', id: true, method: 'weft.system.health' }, null],
    ['a request without id and method', { jsonrpc: '2.0' }, null],
  ];
  for (const [what, body, id] of invalidRequests) {
    test(`${what} is an Invalid Request (-32600) answered with id ${JSON.stringify(id)}`, async () => {
      const { engine } = await harness(greet);
      expect(await rpc(engine, body)).toEqual({
        jsonrpc: '2.0',
        id,
        error: {
          code: -32600,
          message: expect.stringMatching(/^Invalid Request: /),
          data: { code: 'bad_request', status: 400 },
        },
      });
    });
  }

  test('an unknown method is Method not found (-32601), reserved rpc.* names too', async () => {
    const { engine } = await harness(greet);
    for (const method of ['weft.workflows.nope', 'rpc.other', 'toString', '__proto__']) {
      expect(await rpc(engine, call(1, method))).toEqual({
        jsonrpc: '2.0',
        id: 1,
        error: {
          code: -32601,
          message: `Method not found: ${method}`,
          data: { code: 'not_found', status: 404, details: { method } },
        },
      });
    }
  });

  test('params by position are Invalid params (-32602): the methods take params by name', async () => {
    const { engine } = await harness(greet);
    expect(await rpc(engine, call(1, 'weft.workflows.get', ['g-1']))).toMatchObject({
      id: 1,
      error: { code: -32602, data: { code: 'invalid_params', status: 400 } },
    });
  });

  test('params that fail the schema are Invalid params (-32602) with the issues in error.data.details', async () => {
    const { engine } = await harness(greet);
    const answer = (await rpc(engine, call(1, 'weft.workflows.start', { input: 1, id: '' }))) as JsonRpcResponse;
    expect(answer).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: {
        code: -32602,
        message: expect.stringContaining('weft.workflows.start'),
        data: {
          code: 'invalid_params',
          status: 400,
          details: {
            operation: 'weft.workflows.start',
            issues: expect.arrayContaining([
              { path: 'type', message: expect.any(String) },
              { path: 'id', message: expect.any(String) },
            ]),
          },
        },
      },
    });
    expect(await rpc(engine, call(2, 'weft.workflows.list', { status: ['running', 'sleeping'] }))).toMatchObject({
      error: { code: -32602, data: { details: { issues: [{ path: 'status' }] } } },
    });
  });

  test('a failing operation answers the JSON-RPC code of its Weft code, with that code and its HTTP status in error.data', async () => {
    const { engine } = await harness(greet, broken);
    await engine.start(greet, 'Ada', { id: 'e-1' });
    const cases: [unknown, number, string, number][] = [
      [call(1, 'weft.workflows.get', { id: 'nope' }), -32004, 'workflow_not_found', 404],
      [
        call(2, 'weft.workflows.start', { type: 'greet', input: 'x', id: 'e-1' }),
        -32009,
        'workflow_already_exists',
        409,
      ],
      [call(3, 'weft.workflows.start', { type: 'unknown' }), -32602, 'workflow_type_not_registered', 400],
      [call(4, 'weft.workflows.update', { id: 'e-1', name: 'nope' }), -32022, 'update_not_handled', 422],
      [call(5, 'weft.updates.get', { updateId: 'nope' }), -32004, 'update_not_found', 404],
    ];
    for (const [body, code, weftCode, status] of cases) {
      expect(await rpc(engine, body)).toEqual({
        jsonrpc: '2.0',
        id: (body as { id: number }).id,
        error: { code, message: expect.any(String), data: expect.objectContaining({ code: weftCode, status }) },
      });
    }
    await engine.start(broken, undefined, { id: 'e-2' });
    expect(await rpc(engine, call(6, 'weft.workflows.result', { id: 'e-2' }))).toEqual({
      jsonrpc: '2.0',
      id: 6,
      error: {
        code: -32022,
        message: expect.stringContaining('it broke'),
        data: { code: 'workflow_failed', status: 422, details: expect.any(Object) },
      },
    });
  });

  test('an unexpected error is Internal error (-32603) and does not leak its message', async () => {
    const failing = {
      get: async () => {
        throw new Error('database password is hunter2');
      },
    } as unknown as Engine;
    expect(await handleJsonRpc(call(1, 'weft.workflows.get', { id: 'x' }), failing, context)).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32603, message: 'Internal server error', data: { code: 'internal', status: 500 } },
    });
  });

  test('jsonRpcParseError is the -32700 response for a body that could not be parsed', () => {
    expect(jsonRpcParseError()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32700,
        message: expect.stringMatching(/^Parse error/),
        data: { code: 'bad_request', status: 400 },
      },
    });
  });
});
