import { describe, expect, test } from 'bun:test';
import { pack } from 'msgpackr';
import { signal, workflow } from '../index.ts';
import { SQLiteStorage } from '../storage/sqlite/index.ts';
import { useTestEngines } from '../testing/index.ts';
import { client, errorOf, type Send } from './test-client.ts';

const go = signal<string>('go');
const order = workflow({ name: 'order' }).execute(async function* (ctx, input: string) {
  yield* ctx.waitForSignal(go);
  return input;
});

const harness = useTestEngines({ storage: () => new SQLiteStorage(':memory:') });

async function server(): Promise<Send> {
  const t = await harness(order);
  return client(t.engine);
}

/** A JSON-RPC call's `error` (or the whole body when the answer is not an error). */
async function rpcError(send: Send, method: string, params: unknown): Promise<Record<string, unknown>> {
  const reply = await send('POST', '/api/jsonrpc', { jsonrpc: '2.0', id: 1, method, params });
  expect(reply.status).toBe(200);
  return ((reply.body as { error?: Record<string, unknown> }).error ?? reply.body) as Record<string, unknown>;
}

/** The size of an answer's body as it went over the wire. */
const wireSize = (body: unknown): number => JSON.stringify(body).length;

describe('strings with lone surrogates over HTTP on SQLite', () => {
  test('idempotency keys "ik-\\ud800" and "ik-\\udc00" are refused with 400 instead of merging', async () => {
    const send = await server();
    for (const idempotencyKey of ['ik-\ud800', 'ik-\udc00']) {
      const reply = await send('POST', '/api/v1/workflows', { type: 'order', input: idempotencyKey, idempotencyKey });
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual(errorOf('invalid_argument'));
    }
    const error = await rpcError(send, 'weft.workflows.start', { type: 'order', idempotencyKey: 'ik-\ud800' });
    expect(error).toMatchObject({ code: -32602, data: { code: 'invalid_argument', status: 400 } });
    expect(await send.engine.list()).toMatchObject({ total: 0 });
  });

  test('ids, names and attributes with lone surrogates are refused with 400', async () => {
    const send = await server();
    expect((await send('POST', '/api/v1/workflows', { type: 'order', id: 'o-1', input: 'x' })).status).toBe(201);
    const refused = [
      await send('POST', '/api/v1/workflows', { type: 'order', id: 'o-\udc00' }),
      await send('POST', '/api/v1/workflows', { type: 'order\ud800' }),
      await send('POST', '/api/v1/workflows/o-1/signal/go', { name: 'go\ud800' }),
      await send('PATCH', '/api/v1/workflows/o-1/attributes', { attributes: { tier: 'gold\ud800' } }),
      await send('GET', `/api/v1/workflows?type=${encodeURIComponent('order')}&id_prefix=o-%EF%BF%BD`),
    ];
    expect(refused.slice(0, 4).map((reply) => reply.status)).toEqual([400, 400, 400, 400]);
    // A prefix of U+FFFD is well-formed and matches nothing here; it is not the same as a lone surrogate.
    expect(refused[4]!.body).toMatchObject({ total: 0 });
  });
});

describe('__proto__ and other Object.prototype names as attribute names', () => {
  test('a list filter on attribute.__proto__ is refused with 400, not widened to every run', async () => {
    const send = await server();
    await send('POST', '/api/v1/workflows', { type: 'order', id: 'o-1', input: 'x' });
    const reply = await send('GET', '/api/v1/workflows?attribute.__proto__=x');
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual(errorOf('invalid_params'));
    const aggregate = await send('GET', '/api/v1/workflows/aggregate?group_by=status&attribute.__proto__=x');
    expect(aggregate.status).toBe(400);
    const error = await rpcError(send, 'weft.workflows.list', JSON.parse('{"attributes":{"__proto__":"x"}}'));
    expect(error).toMatchObject({ code: -32602, data: { code: 'invalid_params' } });
  });

  test('a PATCH of __proto__ is refused with 400, not answered 200 with nothing stored', async () => {
    const send = await server();
    await send('POST', '/api/v1/workflows', { type: 'order', id: 'o-1', input: 'x' });
    const body = '{"attributes":{"tier":"gold","__proto__":"p"}}';
    const reply = await send('PATCH', '/api/v1/workflows/o-1/attributes', body, { 'content-type': 'application/json' });
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({
      error: { code: 'invalid_params', details: { issues: [{ path: 'attributes.__proto__' }] } },
    });
    const error = await rpcError(send, 'weft.workflows.setAttributes', JSON.parse(`{"id":"o-1",${body.slice(1, -1)}}`));
    expect(error).toMatchObject({ code: -32602, data: { code: 'invalid_params' } });
    expect(await send.engine.getAttributes('o-1')).toEqual({});
  });

  test('in MessagePack too: a __proto__ key is refused, not renamed to __proto_ and stored', async () => {
    const send = await server();
    await send('POST', '/api/v1/workflows', { type: 'order', id: 'o-1', input: 'x' });
    const body = pack(new Map([['attributes', new Map([['__proto__', 'p']])]]));
    const reply = await send('PATCH', '/api/v1/workflows/o-1/attributes', body, {
      'content-type': 'application/msgpack',
    });
    expect(reply.status).toBe(400);
    expect(await send.engine.getAttributes('o-1')).toEqual({});
    // `__proto_` itself is an ordinary name.
    const plain = pack(new Map([['attributes', new Map([['__proto_', 'q']])]]));
    const stored = await send('PATCH', '/api/v1/workflows/o-1/attributes', plain, {
      'content-type': 'application/msgpack',
    });
    expect(stored.status).toBe(200);
    expect(await send.engine.getAttributes('o-1')).toEqual({ __proto_: 'q' });
  });

  test('constructor, toString and hasOwnProperty are stored, read and filtered like any name', async () => {
    const send = await server();
    await send('POST', '/api/v1/workflows', { type: 'order', id: 'o-1', input: 'x' });
    await send('POST', '/api/v1/workflows', { type: 'order', id: 'o-2', input: 'x' });
    const attributes = { constructor: 'c', toString: 't', hasOwnProperty: 1 };
    const patched = await send('PATCH', '/api/v1/workflows/o-1/attributes', { attributes });
    expect(patched).toMatchObject({ status: 200, body: { attributes } });
    const ids = async (query: string) =>
      ((await send('GET', `/api/v1/workflows?${query}`)).body as { items: { id: string }[] }).items.map((r) => r.id);
    expect(await ids('attribute.constructor=c')).toEqual(['o-1']);
    expect(await ids('attribute.toString=t&attribute.hasOwnProperty=1')).toEqual(['o-1']);
    expect(await ids('attribute.valueOf=t')).toEqual([]);
    const groups = await send('GET', '/api/v1/workflows/aggregate?group_by=attribute:toString');
    expect(groups.body).toMatchObject({ total: 2, groups: [{ key: 't', count: 1 }] });
  });
});

describe('names are bounded and errors do not echo unbounded input', () => {
  const huge = 't'.repeat(900_000);

  test('a 900 KB workflow type gets a small 400, over REST and JSON-RPC', async () => {
    const send = await server();
    const reply = await send('POST', '/api/v1/workflows', { type: huge });
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual(errorOf('invalid_params'));
    expect(wireSize(reply.body)).toBeLessThan(2_000);
    const error = await rpcError(send, 'weft.workflows.start', { type: huge });
    expect(error).toMatchObject({ code: -32602 });
    expect(wireSize(error)).toBeLessThan(2_000);
  });

  test('900 KB signal, update and query names, attribute names and filters get small 400s', async () => {
    const send = await server();
    await send('POST', '/api/v1/workflows', { type: 'order', id: 'o-1', input: 'x' });
    const replies = [
      await send('POST', `/api/v1/workflows/o-1/signal/${huge}`, {}),
      await send('POST', `/api/v1/workflows/o-1/update/${huge}`, {}),
      await send('POST', `/api/v1/workflows/o-1/query/${huge}`, {}),
      await send('PATCH', '/api/v1/workflows/o-1/attributes', { attributes: { [huge]: 1 } }),
      await send('GET', `/api/v1/workflows?attribute.${huge}=1`),
      await send('GET', `/api/v1/workflows?type=${huge}`),
      await send('GET', `/api/v1/workflows?id_prefix=${huge}`),
      await send('GET', `/api/v1/workflows?${huge}=1`),
      await send('GET', `/api/v1/workflows/aggregate?group_by=attribute:${huge}`),
      await send('GET', `/api/v1/updates/${huge}`),
    ];
    for (const reply of replies) {
      expect(reply.status).toBe(400);
      expect(wireSize(reply.body)).toBeLessThan(2_000);
    }
  });

  test('a 900 KB JSON-RPC method or signal name gets a small error', async () => {
    const send = await server();
    const unknown = await rpcError(send, huge, {});
    expect(unknown).toMatchObject({ code: -32601 });
    expect(wireSize(unknown)).toBeLessThan(2_000);
    const signalled = await rpcError(send, 'weft.workflows.signal', { id: 'o-1', name: huge });
    expect(signalled).toMatchObject({ code: -32602 });
    expect(wireSize(signalled)).toBeLessThan(2_000);
  });
});
